using RecSys.Api.Cli;
using RecSys.Demo;
using RecSys.Tests.Training;
using RecSys.Training;

namespace RecSys.Tests.Stores;

/// <summary>Training from the PostgreSQL event log and catalog gives what the same world gives in memory.</summary>
public sealed class PostgresTrainingTests
{
    private static readonly DemoOptions Small = new() { Items = 400, Users = 50 };

    [Fact]
    public async Task The_postgres_dataset_equals_the_in_memory_one_and_trains_the_same_vectors()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: false);
        Assert.Equal(0, await Verbs.Build().Parse(["load", "--postgres", db.ConnectionString, "--no-redis", "--items", "400", "--users", "50"]).InvokeAsync());
        var world = DemoWorldGenerator.Generate(Small);
        var memory = DatasetReaders.FromDemoWorld(world);

        var lines = new List<string>();
        var stored = await DatasetReaders.ReadPostgresAsync(db.ConnectionString, null, new SyncProgress(lines.Add), default);

        Assert.Equal(memory.UserIds, stored.UserIds);
        Assert.Equal(memory.ItemIds, stored.ItemIds);
        Assert.Equal(memory.Events, stored.Events);
        Assert.Equal(memory.Items.Select(i => i with { Tags = [] }), stored.Items.Select(i => i with { Tags = [] }));
        Assert.Equal(memory.Items.Select(i => string.Join(' ', i.Tags)), stored.Items.Select(i => string.Join(' ', i.Tags)));
        Assert.Equal(memory.Users, stored.Users);
        Assert.Equal(memory.Social.Distinct().OrderBy(e => (e.From, e.Kind, e.To)).ToList(), stored.Social.OrderBy(e => (e.From, e.Kind, e.To)).ToList());
        Assert.Contains(lines, l => l.Contains($"{world.Interactions.Length:N0} events", StringComparison.Ordinal));

        using var dir = new TempDirectory();
        var options = new TrainingOptions { Als = new AlsOptions { Factors = 8, Iterations = 3, MaxThreads = 1 }, Evaluate = false, Rankers = false };
        var a = await Trainer.RunAsync(memory, options with { ModelsDirectory = Path.Combine(dir.Path, "a"), Version = "v" }, null, default);
        var b = await Trainer.RunAsync(stored, options with { ModelsDirectory = Path.Combine(dir.Path, "b"), Version = "v" }, null, default);
        Assert.Equal(File.ReadAllBytes(Path.Combine(a.Directory, Trainer.ItemVectorsFile)), File.ReadAllBytes(Path.Combine(b.Directory, Trainer.ItemVectorsFile)));
        Assert.Equal(File.ReadAllBytes(Path.Combine(a.Directory, Trainer.UserVectorsFile)), File.ReadAllBytes(Path.Combine(b.Directory, Trainer.UserVectorsFile)));
    }

    [Fact]
    public async Task Until_cuts_the_log_and_the_catalog_at_that_time_and_the_train_verb_reads_it()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: false);
        Assert.Equal(0, await Verbs.Build().Parse(["load", "--postgres", db.ConnectionString, "--no-redis", "--items", "400", "--users", "50"]).InvokeAsync());
        var world = DemoWorldGenerator.Generate(Small);
        var cut = DateTimeOffset.FromUnixTimeSeconds(world.Interactions[world.Interactions.Length / 2].UnixSeconds);

        var stored = await DatasetReaders.ReadPostgresAsync(db.ConnectionString, cut, null, default);
        var expected = world.Interactions.Where(e => e.UnixSeconds < cut.ToUnixTimeSeconds()).ToArray();
        Assert.Equal(expected.Length, stored.Events.Length);
        Assert.All(stored.Events, e => Assert.True(e.UnixSeconds < cut.ToUnixTimeSeconds()));
        Assert.Equal(expected.Select(e => (world.Users[e.UserIndex].Id, world.Items[e.ItemIndex].Id, e.Type)),
            stored.Events.Select(e => (stored.UserIds[e.UserIndex], stored.ItemIds[e.ItemIndex], e.Type)));
        var bornLater = world.Items.Where(i => i.CreatedAt >= cut).Select(i => i.Id).ToList();
        Assert.NotEmpty(bornLater);
        Assert.All(bornLater, id => Assert.False(stored.TryGetItemIndex(id, out _), $"{id} was created after the cut"));

        using var dir = new TempDirectory();
        Assert.Equal(0, await Verbs.Build().Parse(["train", "--postgres", db.ConnectionString, "--until", cut.ToString("O"), "--out", dir.Path, "--version", "pit",
            "--no-evaluation", "--factors", "8", "--iterations", "2", "--register", "--activate"]).InvokeAsync());
        var model = TrainedModel.Load(dir.Path);
        Assert.Equal(stored.ItemIds, model.ItemIds);
        // --register recorded the version it wrote, with its report's metrics, and --activate made it the active one.
        var registered = Assert.Single(await RecSys.Catalog.PostgresCatalog.ModelRegistry(db.ConnectionString).ListAsync("recsys", default));
        Assert.Equal(("pit", Path.Combine(dir.Path, "pit"), "active"), (registered.Version, registered.Path, registered.Status));
        Assert.True(registered.Metrics["seconds.total"] > 0);
    }

    private sealed class SyncProgress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }
}
