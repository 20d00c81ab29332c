using System.CommandLine;
using System.Diagnostics;
using RecSys.Catalog;
using RecSys.Demo;
using RecSys.Features;

namespace RecSys.Api.Cli;

/// <summary>
/// <c>migrate</c>: applies the numbered PostgreSQL migrations. <c>load</c>: generates the demo world (the <c>Demo</c>
/// settings, so the service regenerates the same world's item vectors) and loads it into PostgreSQL (catalog, users,
/// social graph) and Redis (the online store, by replaying the event log). Connection strings come from the usual
/// configuration (<c>ConnectionStrings:Postgres</c>, <c>ConnectionStrings:Redis</c>, environment included) or the options.
/// </summary>
internal static class StoreVerbs
{
    private static readonly Option<string?> PostgresOption = new("--postgres") { Description = "Npgsql connection string (default: ConnectionStrings:Postgres)." };
    private static readonly Option<string?> RedisOption = new("--redis") { Description = "Redis host:port[,password=...][,db=N] (default: ConnectionStrings:Redis)." };

    internal static IConfigurationRoot Configuration(string? postgres, string? redis, IDictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?>(more ?? new Dictionary<string, string?>());
        if (postgres is not null) settings["ConnectionStrings:Postgres"] = postgres;
        if (redis is not null) settings["ConnectionStrings:Redis"] = redis;
        return new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .AddInMemoryCollection(settings)
            .Build();
    }

    internal static string RequirePostgres(IConfiguration configuration) =>
        configuration.GetConnectionString("Postgres") is { Length: > 0 } s ? s
            : throw new InvalidOperationException("No PostgreSQL connection string: pass --postgres or set ConnectionStrings__Postgres.");

    public static Command Migrate()
    {
        var command = new Command("migrate", "Apply the numbered PostgreSQL migrations (sql/) that have not run yet; safe to repeat.");
        command.Options.Add(PostgresOption);
        command.SetAction(async (result, cancellationToken) =>
        {
            var connection = RequirePostgres(Configuration(result.GetValue(PostgresOption), null));
            var applied = await PostgresCatalog.MigrateAsync(connection, Console.WriteLine, cancellationToken);
            Console.WriteLine($"migrate: {applied.Count} applied, {PostgresCatalog.Migrations.Count - applied.Count} already there");
            return 0;
        });
        return command;
    }

    public static Command Load()
    {
        var command = new Command("load", "Generate the demo world from the Demo settings and load it into PostgreSQL (catalog, social graph) and Redis (online store).");
        var skipPostgres = new Option<bool>("--no-postgres") { Description = "Do not load PostgreSQL." };
        var skipRedis = new Option<bool>("--no-redis") { Description = "Do not load Redis." };
        var skipEvents = new Option<bool>("--no-events") { Description = "Do not copy the world's events into PostgreSQL's event_log." };
        var items = new Option<int?>("--items") { Description = "Number of items (default: Demo:Items)." };
        var users = new Option<int?>("--users") { Description = "Number of users (default: Demo:Users)." };
        var prefix = new Option<string?>("--redis-prefix") { Description = "Redis key prefix (default: Stores:RedisKeyPrefix)." };
        command.Options.Add(PostgresOption);
        command.Options.Add(RedisOption);
        command.Options.Add(skipPostgres);
        command.Options.Add(skipRedis);
        command.Options.Add(skipEvents);
        command.Options.Add(items);
        command.Options.Add(users);
        command.Options.Add(prefix);
        command.SetAction(async (result, cancellationToken) =>
        {
            var overrides = new Dictionary<string, string?>();
            if (result.GetValue(items) is { } itemCount) overrides["Demo:Items"] = itemCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (result.GetValue(users) is { } userCount) overrides["Demo:Users"] = userCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (result.GetValue(prefix) is { } keyPrefix) overrides["Stores:RedisKeyPrefix"] = keyPrefix;
            var configuration = Configuration(result.GetValue(PostgresOption), result.GetValue(RedisOption), overrides);
            var watch = Stopwatch.StartNew();
            void Say(string s) => Console.WriteLine($"[{watch.Elapsed.TotalSeconds,6:0.0}s] {s}");
            var demo = new DemoOptions();
            configuration.GetSection(DemoOptions.SectionName).Bind(demo);
            var world = DemoWorldGenerator.Generate(demo, new Progress<string>(s => Say($"generated {s}")));
            Say($"world {world.Version}: {world.Items.Count} items, {world.Users.Count} users, {world.Edges.Count} edges, {world.Interactions.Length} events");

            if (!result.GetValue(skipPostgres))
            {
                var postgres = RequirePostgres(configuration);
                await PostgresCatalog.MigrateAsync(postgres, s => Say($"migration {s}"), cancellationToken);
                await PostgresCatalog.ImportAsync(postgres, world.ToCatalogSnapshot(), world.Edges, new SyncProgress(s => Say($"postgres: {s}")), cancellationToken);
                if (!result.GetValue(skipEvents)) await CopyEventsAsync(postgres, world, s => Say($"postgres: {s}"), cancellationToken);
            }
            if (!result.GetValue(skipRedis))
            {
                // The Redis store wired as the service wires it (it reads item languages from a catalog for the trending keys).
                var settings = new ConfigurationBuilder().AddConfiguration(configuration)
                    .AddInMemoryCollection(new Dictionary<string, string?> { ["Stores:Online"] = "redis", ["Stores:Catalog"] = "memory" }).Build();
                var services = new ServiceCollection().AddSingleton<IConfiguration>(settings).AddLogging().AddCatalog(settings).AddFeatures(settings);
                await using var provider = services.BuildServiceProvider();
                // Replaying onto existing counters would count every event twice: start from an empty key space.
                var prefix = settings["Stores:RedisKeyPrefix"] is { Length: > 0 } p ? p : new OnlineStoreOptions().RedisKeyPrefix;
                var cleared = await RedisOnlineStore.ClearAsync(settings.GetConnectionString("Redis")
                    ?? throw new InvalidOperationException("No Redis connection string: pass --redis or set ConnectionStrings__Redis."), prefix, cancellationToken);
                Say($"redis: cleared {cleared} keys under '{prefix}'");
                provider.GetRequiredService<ICatalogWriter>().Load(world.ToCatalogSnapshot());
                var store = provider.GetRequiredService<IFeatureStore>();
                const int chunk = 100_000;
                for (var start = 0; start < world.Interactions.Length; start += chunk)
                {
                    var n = Math.Min(chunk, world.Interactions.Length - start);
                    await store.ApplyAsync(world.Interactions.AsMemory(start, n), cancellationToken);
                    Say($"redis: {start + n} of {world.Interactions.Length} events applied");
                }
                store.MarkLoaded(world.Users.Count, world.Items.Count);
            }
            Say("load finished");
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Appends the world's events to <c>event_log</c> with deterministic ids (<c>{world version}:{position}</c>), through
    /// a staging table so that loading the same world again adds nothing. Events of the same second keep the world's
    /// order in <c>seq</c>, so a trainer replaying the log (occurred_at, seq) sees exactly the world's sequence.
    /// </summary>
    private static async Task CopyEventsAsync(string connectionString, DemoWorld world, Action<string> say, CancellationToken cancellationToken)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var create = new Npgsql.NpgsqlCommand(
            "CREATE TEMP TABLE event_stage (event_id text, user_id text, item_id text, event_type smallint, value real, occurred_at timestamptz, n integer) ON COMMIT DROP", connection, transaction))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        await using (var copy = await connection.BeginBinaryImportAsync("COPY event_stage FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            var events = world.Interactions;
            for (var i = 0; i < events.Length; i++)
            {
                var e = events[i];
                await copy.StartRowAsync(cancellationToken);
                await copy.WriteAsync($"{world.Version}:{i}", NpgsqlTypes.NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(world.Users[e.UserIndex].Id, NpgsqlTypes.NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(world.Items[e.ItemIndex].Id, NpgsqlTypes.NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync((short)e.Type, NpgsqlTypes.NpgsqlDbType.Smallint, cancellationToken);
                await copy.WriteAsync(e.Value, NpgsqlTypes.NpgsqlDbType.Real, cancellationToken);
                await copy.WriteAsync(DateTimeOffset.FromUnixTimeSeconds(e.UnixSeconds).UtcDateTime, NpgsqlTypes.NpgsqlDbType.TimestampTz, cancellationToken);
                await copy.WriteAsync(i, NpgsqlTypes.NpgsqlDbType.Integer, cancellationToken);
                if ((i + 1) % 500_000 == 0) say($"{i + 1} of {events.Length} events staged");
            }
            await copy.CompleteAsync(cancellationToken);
        }
        await using (var insert = new Npgsql.NpgsqlCommand(
            """
            INSERT INTO event_log (event_id, user_id, item_id, event_type, value, occurred_at)
            SELECT event_id, user_id, item_id, event_type, value, occurred_at FROM event_stage ORDER BY occurred_at, n
            ON CONFLICT (event_id) DO NOTHING
            """, connection, transaction) { CommandTimeout = 0 })
        {
            var added = await insert.ExecuteNonQueryAsync(cancellationToken);
            say($"{added} events appended to event_log ({world.Interactions.Length - added} were there already)");
        }
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Reports on the caller's thread, so progress lines come out in order.</summary>
    private sealed class SyncProgress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }
}
