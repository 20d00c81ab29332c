using RecSys.Demo;
using RecSys.Training.Data;

namespace RecSys.Training;

/// <summary>Where training data comes from. Every reader fails on a malformed row with a <see cref="DatasetFormatException"/> naming file and line.</summary>
public static class DatasetReaders
{
    /// <summary>
    /// Interactions <c>user_id,item_id,timestamp[,event_type][,value]</c> (timestamp: Unix seconds or ISO-8601; a
    /// missing event_type is a click), with optional item and user metadata files. Ids are kept as given.
    /// </summary>
    public static InteractionDataset ReadCsv(string interactionsPath, string? itemsPath = null, string? usersPath = null) =>
        CsvDatasetReader.Read(interactionsPath, itemsPath, usersPath);

    /// <summary>A MovieLens directory as published (ml-100k, ml-1m or ml-latest), recognised by its ratings file.</summary>
    public static InteractionDataset ReadMovieLens(string directory) => MovieLensReader.Read(directory);

    /// <summary>
    /// The PostgreSQL stores as loaded by <c>load</c> or written by the service: the catalog tables (items with category,
    /// author, language, region, created_at; users; social edges) and <c>event_log</c>, streamed once in replay order.
    /// With <paramref name="untilExclusive"/>: a point-in-time snapshot (events before it, items created before it).
    /// </summary>
    public static Task<InteractionDataset> ReadPostgresAsync(string connectionString, DateTimeOffset? untilExclusive, IProgress<string>? progress, CancellationToken cancellationToken) =>
        PostgresDatasetReader.ReadAsync(connectionString, untilExclusive, progress, cancellationToken);

    /// <summary>The content tokens of a catalog title (lower case; the <c>#123</c> serial left out), as the item tower reads them.</summary>
    internal static string[] TitleTokens(string title) =>
        title.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => !w.StartsWith('#')).Select(w => w.ToLowerInvariant()).ToArray();

    /// <summary>The demo world's log and catalog, with the world's own ids (<c>u_42</c>, <c>i_7</c>) and indices.</summary>
    public static InteractionDataset FromDemoWorld(DemoWorld world)
    {
        ArgumentNullException.ThrowIfNull(world);
        var items = world.Items.Select(i => new ItemMetadata(i.Title, i.Category, world.Users[i.AuthorIndex].Id, i.Language, i.Region,
            i.CreatedAt.ToUnixTimeSeconds(), TitleTokens(i.Title))
        {
            Engagement = i.EngagementScore,
            Nsfw = i.IsNsfw,
        }).ToArray();
        var users = world.Users.Select(u => new UserMetadata(u.Age, u.Region, u.Language) { AvgDwellSeconds = u.AvgDwellSeconds }).ToArray();
        return new InteractionDataset(world.Version, world.Users.Select(u => u.Id).ToArray(), world.Items.Select(i => i.Id).ToArray(),
            world.Interactions, items, users)
        {
            Social = world.Edges,
        };
    }
}
