using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RecSys.Features;
using RecSys.Ranking;
using RecSys.Ranking.Onnx;
using RecSys.Ranking.TwoStage;

namespace RecSys.Tests.Ranking;

/// <summary>Extra model versions named by experiment variants, and pre-ranker scores for explanations, on real ONNX models.</summary>
public class ModelVersionTests
{
    private static readonly string[] Features = ["item_ctr", "ann_similarity", "user_category_affinity", "item_popularity", "language_match", "friend_post"];
    private static readonly string[] OtherFeatures = ["ann_similarity", "item_ctr", "language_match"];
    private static readonly Dictionary<string, double> Weights = new() { ["p_click"] = 1 };

    private sealed class Requirements(params RequiredModelVersion[] versions) : IModelVersionRequirements
    {
        public IReadOnlyList<RequiredModelVersion> Versions { get; } = versions;
    }

    private static (ModelStore Store, TwoStageRanker Ranker) Create(string root, int keep, string batching, params RequiredModelVersion[] extra)
    {
        var options = Options.Create(new RankingOptions { ModelsDirectory = root, PreRankKeep = keep, ExecutionProvider = "cpu", Batching = batching, MaxDelayMicroseconds = 2000 });
        var store = new ModelStore(options, NullLoggerFactory.Instance, requirements: [new Requirements(extra)]);
        return (store, new TwoStageRanker(store, options));
    }

    private static ModelStore Store(string root, params RequiredModelVersion[] extra) =>
        new(Options.Create(new RankingOptions { ModelsDirectory = root, ExecutionProvider = "cpu" }), NullLoggerFactory.Instance, requirements: [new Requirements(extra)]);

    private static FeatureMatrix Rows(FeatureSchema schema, int n, int seed)
    {
        var random = new Random(seed);
        var data = new float[n * schema.Count];
        for (var i = 0; i < data.Length; i++) data[i] = (float)random.NextDouble();
        return new FeatureMatrix(data, n, schema);
    }

    private static float[] Expected(RankerNetwork network, FeatureMatrix rows)
    {
        var result = new float[rows.Rows];
        var one = new float[1];
        for (var r = 0; r < rows.Rows; r++)
        {
            network.Evaluate(rows.Row(r), one);
            result[r] = one[0];
        }
        return result;
    }

    [Fact]
    public async Task A_named_version_scores_its_requests_while_others_get_the_served_one_and_batches_never_mix_them()
    {
        using var folder = new ModelFolder();
        var v1 = RankerNetwork.Random(Features.Length, 0, [8], [("p_click", HeadActivation.Sigmoid)], seed: 1);
        var v2 = RankerNetwork.Random(OtherFeatures.Length, 0, [4], [("p_click", HeadActivation.Sigmoid)], seed: 2);
        folder.Write("v2", OtherFeatures, null, v2, Weights, makeCurrent: false);
        folder.Write("v1", Features, null, v1, Weights);
        var (store, ranker) = Create(folder.Root, 1000, "on", new RequiredModelVersion("v2", "experiment 'e' variant 'b'"));
        using var _ = store;

        Assert.Equal("v1", ranker.ModelVersion);
        Assert.Equal(OtherFeatures, ranker.SchemaOf("v2")!.Names);
        Assert.Equal(Features, ranker.SchemaOf(null)!.Names);
        var extra = Assert.Single(store.Status.ExtraVersions);
        Assert.Equal(("v2", "v2"), (extra.Folder, extra.Version));
        Assert.Equal(["experiment 'e' variant 'b'"], extra.RequiredBy);

        // Concurrent requests of both versions through batching: each gets its own version's outputs.
        const int requests = 24, n = 30;
        var tasks = new List<Task<(string Version, float[] Scores, float[] Expected)>>();
        for (var i = 0; i < requests; i++)
        {
            var second = i % 2 == 1;
            var rows = Rows(second ? ranker.SchemaOf("v2")! : ranker.SchemaOf(null)!, n, 100 + i);
            var expected = Expected(second ? v2 : v1, rows);
            tasks.Add(Task.Run(async () =>
            {
                var scores = new float[n];
                var version = await ranker.ScoreAsync(rows, scores, new ScoringOptions { ModelVersion = second ? "v2" : null }, default);
                return (version, scores, expected);
            }));
        }
        var results = await Task.WhenAll(tasks);
        for (var i = 0; i < requests; i++)
        {
            Assert.Equal(i % 2 == 1 ? "v2" : "v1", results[i].Version);
            for (var r = 0; r < n; r++) Assert.Equal(results[i].Expected[r], results[i].Scores[r], 1e-5);
        }
        // Each version's batcher saw exactly its own rows.
        var served = store.Acquire(null);
        var named = store.Acquire("v2");
        try
        {
            Assert.Equal(requests / 2 * n, served.Ranker.Batcher.Counters.Rows);
            Assert.Equal(requests / 2 * n, named.Ranker.Batcher.Counters.Rows);
            Assert.NotSame(served.Ranker.Batcher, named.Ranker.Batcher);
        }
        finally
        {
            served.Release();
            named.Release();
        }
        Assert.Throws<InvalidOperationException>(() => store.Acquire("v3"));
    }

    [Fact]
    public void A_missing_or_corrupt_named_version_fails_the_load_naming_the_variant_and_the_path()
    {
        using var folder = new ModelFolder();
        folder.Write("v1", Features, null, RankerNetwork.Random(Features.Length, 0, [], [("p_click", HeadActivation.Sigmoid)], seed: 1), Weights);
        var missing = Store(folder.Root, new RequiredModelVersion("v9", "experiment 'e' variant 'b'"));
        using (missing)
        {
            var ex = Assert.Throws<ModelRejectedException>(() => missing.Current);
            Assert.Contains("experiment 'e' variant 'b'", ex.Message, StringComparison.Ordinal);
            Assert.Contains(Path.Combine(folder.Root, "v9", "manifest.json"), ex.Message, StringComparison.Ordinal);
        }

        folder.Write("v2", Features, null, RankerNetwork.Random(Features.Length, 0, [], [("p_click", HeadActivation.Sigmoid)], seed: 2), Weights, makeCurrent: false);
        var bytes = File.ReadAllBytes(folder.PathOf("v2", "ranker.onnx"));
        File.WriteAllBytes(folder.PathOf("v2", "ranker.onnx"), bytes.AsSpan(0, bytes.Length / 2).ToArray());
        var corrupt = Store(folder.Root, new RequiredModelVersion("v2", "experiment 'e' variant 'c'"));
        using (corrupt)
        {
            var ex = Assert.Throws<ModelRejectedException>(() => corrupt.Current);
            Assert.Contains("experiment 'e' variant 'c'", ex.Message, StringComparison.Ordinal);
            Assert.Contains("ranker.onnx cannot be loaded", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Reload_reloads_named_versions_and_a_corrupt_one_refuses_the_reload_while_the_old_ones_serve()
    {
        using var folder = new ModelFolder();
        var v1 = RankerNetwork.Random(Features.Length, 0, [], [("p_click", HeadActivation.Sigmoid)], seed: 1);
        var v2 = RankerNetwork.Random(Features.Length, 0, [], [("p_click", HeadActivation.Sigmoid)], seed: 2);
        var v2b = RankerNetwork.Random(Features.Length, 0, [], [("p_click", HeadActivation.Sigmoid)], seed: 3);
        folder.Write("v2", Features, null, v2, Weights, makeCurrent: false);
        folder.Write("v1", Features, null, v1, Weights);
        var (store, ranker) = Create(folder.Root, 100, "off", new RequiredModelVersion("v2", "experiment 'e' variant 'b'"));
        using var _ = store;
        var rows = Rows(ranker.Schema!, 5, 9);
        var scores = new float[5];
        await ranker.ScoreAsync(rows, scores, new ScoringOptions { ModelVersion = "v2" }, default);
        Assert.Equal(Expected(v2, rows)[0], scores[0], 1e-5);

        // The folder's v2 is rewritten: a reload picks it up.
        folder.Write("v2", Features, null, v2b, Weights, makeCurrent: false);
        await store.ReloadAsync(default);
        await ranker.ScoreAsync(rows, scores, new ScoringOptions { ModelVersion = "v2" }, default);
        Assert.Equal(Expected(v2b, rows)[0], scores[0], 1e-5);

        // Now it is corrupt: the reload is refused, naming the variant, and the loaded v2 keeps answering.
        var bytes = await File.ReadAllBytesAsync(folder.PathOf("v2", "ranker.onnx"));
        await File.WriteAllBytesAsync(folder.PathOf("v2", "ranker.onnx"), bytes.AsSpan(0, bytes.Length / 2).ToArray());
        var refused = await Assert.ThrowsAsync<ModelRejectedException>(() => store.ReloadAsync(default));
        Assert.Contains("experiment 'e' variant 'b'", refused.Message, StringComparison.Ordinal);
        await ranker.ScoreAsync(rows, scores, new ScoringOptions { ModelVersion = "v2" }, default);
        Assert.Equal(Expected(v2b, rows)[0], scores[0], 1e-5);
        Assert.Equal("v1", await ranker.ScoreAsync(rows, scores, default, default));
    }

    [Theory]
    [InlineData(50)]   // two stages: the pre-ranker keeps 50 of 120
    [InlineData(500)]  // every row kept: the pre-ranker runs only because its scores were asked for
    public async Task Pre_ranker_scores_are_the_pre_rankers_output_per_row_and_only_computed_when_asked(int keep)
    {
        using var folder = new ModelFolder();
        var pre = RankerNetwork.Random(Features.Length, 0, [], [("score", HeadActivation.Sigmoid)], seed: 4);
        var main = RankerNetwork.Random(Features.Length, 0, [8], [("p_click", HeadActivation.Sigmoid)], seed: 5);
        folder.Write("v1", Features, pre, main, Weights);
        var (store, ranker) = Create(folder.Root, keep, "on");
        using var _ = store;
        const int n = 120;
        var rows = Rows(ranker.Schema!, n, 3);
        var scores = new float[n];

        long PreRows()
        {
            var set = store.Acquire();
            try { return set.Pre!.Batcher.Counters.Rows; } finally { set.Release(); }
        }

        await ranker.ScoreAsync(rows, scores, default, default);
        Assert.Equal(keep < n ? n : 0, PreRows()); // without a destination, all rows kept: the pre-ranker does not run

        var preScores = new float[n];
        await ranker.ScoreAsync(rows, scores, new ScoringOptions { PreRankerScores = preScores }, default);
        var expected = Expected(pre, rows);
        for (var r = 0; r < n; r++) Assert.Equal(expected[r], preScores[r], 1e-5);

        // The main ranker's own scores: the kept rows' are the ranker's output (and their final score); the rows the
        // pre-ranker dropped never reached it and read NaN, though their final score still orders them.
        var rankerScores = new float[n];
        await ranker.ScoreAsync(rows, scores, new ScoringOptions { RankerScores = rankerScores }, default);
        var mainExpected = Expected(main, rows);
        var kept = Math.Min(keep, n);
        Assert.Equal(n - kept, rankerScores.Count(float.IsNaN));
        var byPre = Enumerable.Range(0, n).OrderByDescending(r => expected[r]).ToArray();
        foreach (var r in byPre.Take(kept))
        {
            Assert.Equal(mainExpected[r], rankerScores[r], 1e-5);
            Assert.Equal(scores[r], rankerScores[r]);
        }
        foreach (var r in byPre.Skip(kept)) Assert.True(float.IsNaN(rankerScores[r]) && !float.IsNaN(scores[r]));
    }

    [Fact]
    public async Task A_version_without_a_pre_ranker_reports_no_pre_ranker_score()
    {
        using var folder = new ModelFolder();
        folder.Write("v1", Features, null, RankerNetwork.Random(Features.Length, 0, [], [("p_click", HeadActivation.Sigmoid)], seed: 1), Weights);
        var (store, ranker) = Create(folder.Root, 10, "off");
        using var _ = store;
        var preScores = new float[20];
        await ranker.ScoreAsync(Rows(ranker.Schema!, 20, 1), new float[20], new ScoringOptions { PreRankerScores = preScores }, default);
        Assert.All(preScores, s => Assert.True(float.IsNaN(s)));
    }
}
