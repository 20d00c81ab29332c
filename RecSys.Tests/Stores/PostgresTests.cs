using Dapper;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using RecSys.Catalog;
using RecSys.Catalog.Postgres;
using RecSys.Events;
using RecSys.Events.Postgres;
using RecSys.Pipeline;

namespace RecSys.Tests.Stores;

/// <summary>A database of the test's own on the test PostgreSQL, dropped afterwards.</summary>
internal sealed class TestDatabase : IAsyncDisposable
{
    private readonly string _name = "t_" + Guid.NewGuid().ToString("N")[..12];

    private TestDatabase()
    {
        ConnectionString = new NpgsqlConnectionStringBuilder(TestServers.Postgres) { Database = _name, Pooling = false }.ConnectionString;
    }

    public string ConnectionString { get; }

    public static async Task<TestDatabase> CreateAsync(bool migrate = true)
    {
        var db = new TestDatabase();
        await using (var admin = new NpgsqlConnection(TestServers.Postgres))
        {
            await admin.ExecuteAsync($"CREATE DATABASE {db._name}");
        }
        if (migrate) await PostgresCatalog.MigrateAsync(db.ConnectionString, null, default);
        return db;
    }

    public async Task DropAsync()
    {
        await using var admin = new NpgsqlConnection(TestServers.Postgres);
        await admin.ExecuteAsync($"DROP DATABASE IF EXISTS {_name} WITH (FORCE)");
    }

    public async ValueTask DisposeAsync() => await DropAsync();
}

public sealed class PostgresTests
{
    [Fact]
    public async Task Migrations_apply_once_record_what_ran_and_a_second_run_is_a_no_op()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: false);
        var first = await PostgresCatalog.MigrateAsync(db.ConnectionString, null, default);
        Assert.Equal(PostgresCatalog.Migrations, first);
        Assert.True(first.Count >= 4);
        var second = await PostgresCatalog.MigrateAsync(db.ConnectionString, null, default);
        Assert.Empty(second);
        // Even with the record gone the scripts themselves are idempotent.
        await using var connection = new NpgsqlConnection(db.ConnectionString);
        await connection.ExecuteAsync("DELETE FROM schema_migrations");
        Assert.Equal(PostgresCatalog.Migrations, await PostgresCatalog.MigrateAsync(db.ConnectionString, null, default));
        var tables = (await connection.QueryAsync<string>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")).ToHashSet();
        Assert.Superset(new HashSet<string> { "items", "users", "categories", "social_edges", "groups", "event_log", "model_registry", "schema_migrations" }, tables);
    }

    [Fact]
    public async Task The_event_log_is_append_only_idempotent_by_event_id_and_read_in_time_order()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var source = NpgsqlDataSource.Create(db.ConnectionString);
        var log = new PostgresEventLog(source);
        var t0 = new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
        UserEvent E(string id, int minutes, EventType type = EventType.Click) =>
            new(id, "u_1", "i_" + id, type, type == EventType.Dwell ? 12.5f : null, "r1", t0.AddMinutes(minutes), id == "a" ? new EventContext("mobile", "us", "en") : null);
        await log.AppendAsync([E("b", 2), E("a", 1), E("c", 3, EventType.Dwell)], default);
        await log.AppendAsync([E("a", 1), E("d", 10), E("d", 10)], default); // a re-send and a duplicate in one batch

        var read = new List<UserEvent>();
        await foreach (var e in log.ReadAsync(t0, t0.AddMinutes(10), default)) read.Add(e);
        Assert.Equal(["a", "b", "c"], read.Select(e => e.EventId));
        Assert.Equal(E("a", 1), read[0]);
        Assert.Equal(12.5f, read[2].Value);
        await using var connection = new NpgsqlConnection(db.ConnectionString);
        Assert.Equal(4, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM event_log"));
        var refused = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync("UPDATE event_log SET value = 1"));
        Assert.Contains("append-only", refused.MessageText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_model_registry_keeps_one_active_model_per_name()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var connection = new NpgsqlConnection(db.ConnectionString);
        await connection.ExecuteAsync("INSERT INTO model_registry (version, path, metrics, status) VALUES ('v1', 'models/v1.onnx', '{\"auc\": 0.71}', 'active'), ('v2', 'models/v2.onnx', '{}', 'candidate')");
        var ex = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync("UPDATE model_registry SET status = 'active' WHERE version = 'v2'"));
        Assert.Equal(PostgresErrorCodes.UniqueViolation, ex.SqlState);
        Assert.Equal(0.71, await connection.ExecuteScalarAsync<double>("SELECT (metrics->>'auc')::float FROM model_registry WHERE version = 'v1'"));
    }

    private static async Task<ServiceProvider> PostgresServicesAsync(string connectionString)
    {
        var world = TestWorld.Small;
        var provider = await TestWorld.CreateServicesAsync(world, settings: new Dictionary<string, string?>
        {
            ["Stores:Catalog"] = "postgres",
            ["ConnectionStrings:Postgres"] = connectionString,
            ["Stores:CatalogRefreshSeconds"] = "3600",
        }, loadCatalog: false);
        return provider;
    }

    [Fact]
    public async Task The_postgres_catalog_gives_the_same_recommendations_as_the_in_memory_one()
    {
        var world = TestWorld.Small;
        await using var db = await TestDatabase.CreateAsync();
        await PostgresCatalog.ImportAsync(db.ConnectionString, world.ToCatalogSnapshot(), world.Edges, null, default);

        await using var memory = await TestWorld.CreateServicesAsync(world);
        await using var postgres = await PostgresServicesAsync(db.ConnectionString);
        var pgCatalog = postgres.GetRequiredService<ICatalog>();
        Assert.Equal(world.Items.Count, pgCatalog.ItemCount);
        Assert.StartsWith(world.Version, pgCatalog.Version, StringComparison.Ordinal);
        for (var i = 0; i < world.Items.Count; i += 97) Assert.Equal(world.Items[i] with { CreatedAt = default }, pgCatalog.GetItem(i) with { CreatedAt = default });
        // timestamptz keeps microseconds; the service reads whole seconds.
        Assert.All(Enumerable.Range(0, world.Items.Count), i => Assert.Equal(world.Items[i].CreatedAt.ToUnixTimeSeconds(), pgCatalog.GetItem(i).CreatedAt.ToUnixTimeSeconds()));
        var memoryGraph = memory.GetRequiredService<ISocialGraph>();
        var pgGraph = postgres.GetRequiredService<ISocialGraph>();
        for (var u = 0; u < world.Users.Count; u++)
        {
            Assert.Equal(world.Users[u], pgCatalog.GetUser(u));
            var a = await memoryGraph.GetContextAsync(u, default);
            var b = await pgGraph.GetContextAsync(u, default);
            Assert.Equal(a.Friends, b.Friends);
            Assert.Equal(a.FollowedAuthors, b.FollowedAuthors);
            Assert.Equal(a.Groups, b.Groups);
            Assert.Equal(a.BlockedAuthors, b.BlockedAuthors);
            Assert.Equal(a.GroupPeers, b.GroupPeers);
        }
        var compared = 0;
        foreach (var user in new[] { "u_0", "u_3", "u_17", "u_42", "u_99", "u_250", "u_399", "nobody" })
        {
            var request = new RecommendationRequest("r", user, 20);
            var a = await memory.GetRequiredService<RecommendationPipeline>().RecommendAsync(request, default);
            var b = await postgres.GetRequiredService<RecommendationPipeline>().RecommendAsync(request, default);
            Assert.Equal(a.Items.Select(x => (x.Item.Id, x.Score)), b.Items.Select(x => (x.Item.Id, x.Score)));
            Assert.Equal(20, a.Items.Count);
            compared++;
        }
        Assert.Equal(8, compared);
    }

    [Fact]
    public async Task New_items_appear_on_refresh_and_the_last_snapshot_keeps_serving_when_postgres_goes_away()
    {
        var world = TestWorld.Small;
        var db = await TestDatabase.CreateAsync();
        await PostgresCatalog.ImportAsync(db.ConnectionString, world.ToCatalogSnapshot(), world.Edges, null, default);
        await using var services = await PostgresServicesAsync(db.ConnectionString);
        var loader = services.GetServices<IHostedService>().OfType<PostgresCatalogLoader>().Single();
        var catalog = services.GetRequiredService<ICatalog>();
        Assert.False(await loader.RefreshAsync(default)); // nothing changed

        await using (var connection = new NpgsqlConnection(db.ConnectionString))
        {
            await connection.ExecuteAsync(
                "INSERT INTO items (item_index, item_id, title, category_id, author_index, created_at, region, language) VALUES (@n, 'i_new', 'Brand new', 1, 0, now(), 'us', 'en')",
                new { n = world.Items.Count });
        }
        Assert.True(await loader.RefreshAsync(default));
        Assert.True(catalog.TryGetItem("i_new", out var added));
        Assert.Equal(world.Items.Count, added.Index);

        // An edit is picked up too (the trigger bumps updated_at), and so is a new block.
        await using (var connection = new NpgsqlConnection(db.ConnectionString))
        {
            await connection.ExecuteAsync("UPDATE items SET title = 'Renamed' WHERE item_id = 'i_5'");
            await connection.ExecuteAsync("INSERT INTO social_edges (from_user, to_id, kind) VALUES (3, 7, 'block') ON CONFLICT DO NOTHING");
        }
        Assert.True(await loader.RefreshAsync(default));
        Assert.Equal("Renamed", catalog.GetItem(5).Title);
        Assert.True((await services.GetRequiredService<ISocialGraph>().GetContextAsync(3, default)).HasBlocked(7));

        await db.DropAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => loader.RefreshAsync(default));
        Assert.Equal(world.Items.Count + 1, catalog.ItemCount);
        Assert.True(catalog.TryGetUser("u_3", out _));
    }

    private sealed class DownFactory : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting("Demo:Items", "3000");
            builder.UseSetting("Demo:Users", "400");
            builder.UseSetting("Stores:Catalog", "postgres");
            // A port nothing listens on.
            builder.UseSetting("ConnectionStrings:Postgres", "Host=127.0.0.1;Port=1;Username=recsys;Database=nowhere;Timeout=2");
        }
    }

    [Fact]
    public async Task Start_up_fails_with_a_clear_message_when_postgres_is_down()
    {
        _ = TestServers.Postgres;
        await using var factory = new DownFactory();
        var ex = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        var message = ex.ToString();
        Assert.Contains("Stores:Catalog=postgres", message, StringComparison.Ordinal);
        Assert.Contains("port 1", message, StringComparison.Ordinal);
        Assert.Contains("database nowhere", message, StringComparison.Ordinal);
    }
}
