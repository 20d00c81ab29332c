using System.Globalization;
using System.Text;
using RecSys.Catalog;
using RecSys.Events;

namespace RecSys.Demo;

/// <summary>Writes a demo world as CSV files with headers: the format the trainer and the loaders read.</summary>
public static class DemoWorldFiles
{
    public static async Task WriteAsync(DemoWorld world, string directory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(world);
        Directory.CreateDirectory(directory);
        var inv = CultureInfo.InvariantCulture;

        await WriteLinesAsync(Path.Combine(directory, "items.csv"), "item_id,title,category,author_id,created_at,engagement,nsfw,region,language,thumbnail_url",
            world.Items.Select(i => string.Join(',', i.Id, Quote(i.Title), i.Category, world.Users[i.AuthorIndex].Id, i.CreatedAt.ToString("o", inv),
                i.EngagementScore.ToString(inv), i.IsNsfw ? "1" : "0", i.Region, i.Language, i.ThumbnailUrl)), cancellationToken);

        await WriteLinesAsync(Path.Combine(directory, "users.csv"), "user_id,age,region,language,allow_nsfw,avg_dwell_seconds",
            world.Users.Select(u => string.Join(',', u.Id, u.Age.ToString(inv), u.Region, u.Language, u.AllowNsfw ? "1" : "0", u.AvgDwellSeconds.ToString(inv))), cancellationToken);

        await WriteLinesAsync(Path.Combine(directory, "social.csv"), "from_user_id,to_id,kind",
            world.Edges.Select(e => string.Join(',', world.Users[e.From].Id, e.Kind == SocialEdgeKind.MemberOf ? $"g_{e.To}" : world.Users[e.To].Id, e.Kind.ToString().ToLowerInvariant())), cancellationToken);

        await WriteLinesAsync(Path.Combine(directory, "interactions.csv"), "user_id,item_id,timestamp,event_type,value",
            world.Interactions.Select(e => string.Join(',', world.Users[e.UserIndex].Id, world.Items[e.ItemIndex].Id, e.UnixSeconds.ToString(inv),
                EventTypeName(e.Type), e.Value.ToString(inv))), cancellationToken);
    }

    public static string EventTypeName(EventType type) => type.ToString().ToLowerInvariant();

    private static string Quote(string value) => value.Contains(',', StringComparison.Ordinal) || value.Contains('"', StringComparison.Ordinal)
        ? $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\""
        : value;

    private static async Task WriteLinesAsync(string path, string header, IEnumerable<string> lines, CancellationToken cancellationToken)
    {
        // Write to a temporary file and rename, so a crash never leaves a half-written file under the final name.
        var temporary = path + ".tmp";
        await using (var writer = new StreamWriter(temporary, false, new UTF8Encoding(false), 1 << 16))
        {
            await writer.WriteLineAsync(header);
            foreach (var line in lines)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await writer.WriteLineAsync(line);
            }
        }
        File.Move(temporary, path, overwrite: true);
    }
}
