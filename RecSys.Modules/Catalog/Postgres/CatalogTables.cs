using Dapper;
using Npgsql;
using NpgsqlTypes;

namespace RecSys.Catalog.Postgres;

/// <summary>Reads the catalog snapshot and social graph from PostgreSQL, and writes a whole data set into it.</summary>
internal static class CatalogTables
{
    private sealed record ItemRow(int item_index, string item_id, string title, int category_id, string category, int author_index, DateTime created_at,
        float engagement, bool nsfw, string region, string language, string thumbnail_url);

    private sealed record UserRow(int user_index, string user_id, int age, string region, string language, bool allow_nsfw, float avg_dwell_seconds);

    private sealed record EdgeRow(int from_user, int to_id, string kind);

    /// <summary>A cheap fingerprint of the tables: the refresh reloads only when it changes.</summary>
    public static async Task<string> FingerprintAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        await connection.ExecuteScalarAsync<string>(new CommandDefinition(
            """
            SELECT concat_ws('/', (SELECT value FROM catalog_meta WHERE key = 'version'),
                   (SELECT count(*) FROM items), (SELECT max(updated_at) FROM items),
                   (SELECT count(*) FROM users), (SELECT max(updated_at) FROM users), (SELECT count(*) FROM social_edges), (SELECT max(created_at) FROM social_edges))
            """, cancellationToken: cancellationToken)) ?? "";

    public static async Task<(CatalogSnapshot Snapshot, List<SocialEdge> Edges)> ReadAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var version = await connection.ExecuteScalarAsync<string?>(new CommandDefinition("SELECT value FROM catalog_meta WHERE key = 'version'", cancellationToken: cancellationToken)) ?? "postgres";
        var categories = (await connection.QueryAsync<(int, string)>(new CommandDefinition("SELECT category_id, name FROM categories ORDER BY category_id", cancellationToken: cancellationToken))).ToList();
        var users = (await connection.QueryAsync<UserRow>(new CommandDefinition(
            "SELECT user_index, user_id, age, region, language, allow_nsfw, avg_dwell_seconds FROM users ORDER BY user_index", cancellationToken: cancellationToken))).ToList();
        var items = (await connection.QueryAsync<ItemRow>(new CommandDefinition(
            """
            SELECT i.item_index, i.item_id, i.title, i.category_id, c.name AS category, i.author_index, i.created_at, i.engagement, i.nsfw,
                   i.region, i.language, i.thumbnail_url
            FROM items i JOIN categories c USING (category_id) ORDER BY i.item_index
            """, cancellationToken: cancellationToken))).ToList();
        var edges = (await connection.QueryAsync<EdgeRow>(new CommandDefinition(
            "SELECT from_user, to_id, kind FROM social_edges ORDER BY from_user, kind, to_id", cancellationToken: cancellationToken))).ToList();

        for (var c = 0; c < categories.Count; c++)
        {
            if (categories[c].Item1 != c) throw new InvalidDataException($"categories.category_id must run 0..{categories.Count - 1} without gaps; found {categories[c].Item1} at position {c}.");
        }
        var snapshot = new CatalogSnapshot(
            $"{version}@{Fingerprint(items.Count, users.Count)}",
            items.Select(r => new Item(r.item_index, r.item_id, r.title, r.category_id, r.category, r.author_index,
                new DateTimeOffset(DateTime.SpecifyKind(r.created_at, DateTimeKind.Utc)), r.engagement, r.nsfw, r.region, r.language, r.thumbnail_url)).ToList(),
            users.Select(r => new UserProfile(r.user_index, r.user_id, r.age, r.region, r.language, r.allow_nsfw, r.avg_dwell_seconds)).ToList(),
            categories.Select(c => c.Item2).ToList());
        var socialEdges = edges.Select(e => new SocialEdge(e.from_user, e.to_id, e.kind switch
        {
            "friend" => SocialEdgeKind.Friend,
            "follow" => SocialEdgeKind.Follow,
            "member_of" => SocialEdgeKind.MemberOf,
            "block" => SocialEdgeKind.Block,
            _ => throw new InvalidDataException($"Unknown social edge kind '{e.kind}'."),
        })).ToList();
        return (snapshot, socialEdges);
    }

    private static string Fingerprint(int items, int users) => $"{items}i-{users}u";

    /// <summary>Replaces the catalog tables' content with this data set, in one transaction (readers see old or new).</summary>
    public static async Task WriteAsync(NpgsqlConnection connection, CatalogSnapshot snapshot, IReadOnlyList<SocialEdge> edges, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("TRUNCATE social_edges, groups, items, users, categories", transaction: transaction, cancellationToken: cancellationToken));

        await using (var copy = await connection.BeginBinaryImportAsync("COPY categories (category_id, name) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            for (var c = 0; c < snapshot.Categories.Count; c++) await copy.WriteRowAsync(cancellationToken, c, snapshot.Categories[c]);
            await copy.CompleteAsync(cancellationToken);
        }
        await using (var copy = await connection.BeginBinaryImportAsync(
            "COPY users (user_index, user_id, age, region, language, allow_nsfw, avg_dwell_seconds) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            foreach (var u in snapshot.Users)
            {
                await copy.StartRowAsync(cancellationToken);
                await copy.WriteAsync(u.Index, NpgsqlDbType.Integer, cancellationToken);
                await copy.WriteAsync(u.Id, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(u.Age, NpgsqlDbType.Integer, cancellationToken);
                await copy.WriteAsync(u.Region, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(u.Language, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(u.AllowNsfw, NpgsqlDbType.Boolean, cancellationToken);
                await copy.WriteAsync(u.AvgDwellSeconds, NpgsqlDbType.Real, cancellationToken);
            }
            await copy.CompleteAsync(cancellationToken);
        }
        progress?.Report($"{snapshot.Users.Count} users");
        await using (var copy = await connection.BeginBinaryImportAsync(
            "COPY items (item_index, item_id, title, category_id, author_index, created_at, engagement, nsfw, region, language, thumbnail_url) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            var written = 0;
            foreach (var i in snapshot.Items)
            {
                await copy.StartRowAsync(cancellationToken);
                await copy.WriteAsync(i.Index, NpgsqlDbType.Integer, cancellationToken);
                await copy.WriteAsync(i.Id, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(i.Title, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(i.CategoryId, NpgsqlDbType.Integer, cancellationToken);
                await copy.WriteAsync(i.AuthorIndex, NpgsqlDbType.Integer, cancellationToken);
                await copy.WriteAsync(i.CreatedAt.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
                await copy.WriteAsync(i.EngagementScore, NpgsqlDbType.Real, cancellationToken);
                await copy.WriteAsync(i.IsNsfw, NpgsqlDbType.Boolean, cancellationToken);
                await copy.WriteAsync(i.Region, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(i.Language, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(i.ThumbnailUrl, NpgsqlDbType.Text, cancellationToken);
                if (++written % 50_000 == 0) progress?.Report($"{written} of {snapshot.Items.Count} items");
            }
            await copy.CompleteAsync(cancellationToken);
        }
        progress?.Report($"{snapshot.Items.Count} items");
        await using (var groups = new NpgsqlCommand(
            "INSERT INTO groups (group_id) SELECT DISTINCT g FROM unnest(@ids) AS g", connection, transaction))
        {
            groups.Parameters.AddWithValue("ids", edges.Where(e => e.Kind == SocialEdgeKind.MemberOf).Select(e => e.To).Distinct().ToArray());
            await groups.ExecuteNonQueryAsync(cancellationToken);
        }
        await using (var copy = await connection.BeginBinaryImportAsync("COPY social_edges (from_user, to_id, kind) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            foreach (var e in edges.DistinctBy(e => (e.From, e.To, e.Kind)))
            {
                await copy.StartRowAsync(cancellationToken);
                await copy.WriteAsync(e.From, NpgsqlDbType.Integer, cancellationToken);
                await copy.WriteAsync(e.To, NpgsqlDbType.Integer, cancellationToken);
                await copy.WriteAsync(KindName(e.Kind), NpgsqlDbType.Text, cancellationToken);
            }
            await copy.CompleteAsync(cancellationToken);
        }
        progress?.Report($"{edges.Count} social edges");
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO catalog_meta (key, value) VALUES ('version', @v) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            new { v = snapshot.Version }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
    }

    private static string KindName(SocialEdgeKind kind) => kind switch
    {
        SocialEdgeKind.Friend => "friend",
        SocialEdgeKind.Follow => "follow",
        SocialEdgeKind.MemberOf => "member_of",
        SocialEdgeKind.Block => "block",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
