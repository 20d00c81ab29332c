using System.Diagnostics;
using System.Globalization;
using Npgsql;
using RecSys.Catalog;
using RecSys.Events;

namespace RecSys.Training.Data;

/// <summary>
/// Builds an <see cref="InteractionDataset"/> from the PostgreSQL stores: users and items in catalog index order (so the
/// dataset's indices are the catalog's when they are dense, as <c>load</c> writes them), then <c>event_log</c> streamed
/// once in its replay order (<c>occurred_at, seq</c>), which is already time order, so nothing is buffered twice or
/// re-sorted. Users and items that only the log names (users the catalog does not list, items since removed) are appended
/// with unknown metadata, as the CSV reader does for ids without a metadata row.
/// </summary>
internal static class PostgresDatasetReader
{
    private const int ProgressEvery = 500_000;

    public static async Task<InteractionDataset> ReadAsync(string connectionString, DateTimeOffset? untilExclusive, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var where = new NpgsqlConnectionStringBuilder(connectionString);
        var watch = Stopwatch.StartNew();
        var (snapshot, edges) = await PostgresCatalog.ReadAsync(connectionString, cancellationToken).ConfigureAwait(false);

        var userIds = new List<string>(snapshot.Users.Count);
        var users = new List<UserMetadata>(snapshot.Users.Count);
        var userByCatalogIndex = new Dictionary<int, int>(snapshot.Users.Count);
        var userIndex = new Dictionary<string, int>(snapshot.Users.Count, StringComparer.Ordinal);
        foreach (var u in snapshot.Users)
        {
            userByCatalogIndex[u.Index] = userIds.Count;
            userIndex[u.Id] = userIds.Count;
            userIds.Add(u.Id);
            users.Add(new UserMetadata(u.Age, u.Region, u.Language) { AvgDwellSeconds = u.AvgDwellSeconds });
        }
        var authorIds = snapshot.Users.ToDictionary(u => u.Index, u => u.Id);

        var itemIds = new List<string>(snapshot.Items.Count);
        var items = new List<ItemMetadata>(snapshot.Items.Count);
        var itemIndex = new Dictionary<string, int>(snapshot.Items.Count, StringComparer.Ordinal);
        var later = 0;
        foreach (var i in snapshot.Items)
        {
            // A point-in-time snapshot has no item that did not exist yet (the catalog tables hold only the present state).
            if (untilExclusive is { } until && i.CreatedAt >= until)
            {
                later++;
                continue;
            }
            itemIndex[i.Id] = itemIds.Count;
            itemIds.Add(i.Id);
            items.Add(new ItemMetadata(i.Title, i.Category, authorIds.GetValueOrDefault(i.AuthorIndex), i.Language, i.Region, i.CreatedAt.ToUnixTimeSeconds(),
                DatasetReaders.TitleTokens(i.Title))
            {
                Engagement = i.EngagementScore,
                Nsfw = i.IsNsfw,
            });
        }
        progress?.Report($"postgres {where.Host}:{where.Port}/{where.Database}: catalog {snapshot.Version}: {itemIds.Count:N0} items{(later > 0 ? $" ({later:N0} created after the cut left out)" : "")}, {userIds.Count:N0} users, {edges.Count:N0} social edges in {watch.Elapsed.TotalSeconds:0.0} s");

        var expected = await PostgresEventLogReader.EstimateCountAsync(connectionString, cancellationToken).ConfigureAwait(false);
        var events = new List<Interaction>(expected is > 0 and < int.MaxValue ? (int)expected : 1024);
        var logOnlyUsers = 0;
        var logOnlyItems = 0;
        await foreach (var e in PostgresEventLogReader.ReadAsync(connectionString, untilExclusive, cancellationToken).ConfigureAwait(false))
        {
            if (!userIndex.TryGetValue(e.UserId, out var user))
            {
                user = userIds.Count;
                userIndex.Add(e.UserId, user);
                userIds.Add(e.UserId);
                users.Add(UserMetadata.Unknown);
                logOnlyUsers++;
            }
            if (!itemIndex.TryGetValue(e.ItemId, out var item))
            {
                item = itemIds.Count;
                itemIndex.Add(e.ItemId, item);
                itemIds.Add(e.ItemId);
                items.Add(ItemMetadata.Unknown);
                logOnlyItems++;
            }
            // A value the client did not send counts as 0, as the online store applies it (EventApplier).
            events.Add(new Interaction(user, item, e.Type, e.UnixSeconds, e.Value ?? 0f));
            if (events.Count % ProgressEvery == 0)
            {
                progress?.Report(expected > 0
                    ? $"event_log: {events.Count:N0} of ~{expected:N0} events read ({watch.Elapsed.TotalSeconds:0.0} s)"
                    : $"event_log: {events.Count:N0} events read ({watch.Elapsed.TotalSeconds:0.0} s)");
            }
        }
        progress?.Report($"event_log: {events.Count:N0} events{(untilExclusive is { } limit ? $" before {limit.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)}" : "")}; " +
            $"{logOnlyUsers:N0} users and {logOnlyItems:N0} items only the log names ({watch.Elapsed.TotalSeconds:0.0} s)");

        // Edges over catalog user indices -> dataset user indices (member_of points at a group id, kept as is).
        var social = new List<SocialEdge>(edges.Count);
        foreach (var edge in edges)
        {
            if (!userByCatalogIndex.TryGetValue(edge.From, out var from)) continue;
            if (edge.Kind == SocialEdgeKind.MemberOf)
            {
                social.Add(edge with { From = from });
            }
            else if (userByCatalogIndex.TryGetValue(edge.To, out var to))
            {
                social.Add(edge with { From = from, To = to });
            }
        }

        var name = $"postgres:{where.Host}:{where.Port}/{where.Database}" +
            (untilExclusive is { } cut ? $"@{cut.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}" : "");
        return new InteractionDataset(name, userIds, itemIds, events.ToArray(), items, users) { Social = social };
    }
}
