using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RecSys.Features;
using RecSys.Ranking;
using RecSys.Ranking.Onnx;
using RecSys.Ranking.TwoStage;

namespace RecSys.Tests.Ranking;

public class TwoStageRankerTests
{
    private static readonly string[] Features = ["item_ctr", "ann_similarity", "user_category_affinity", "item_popularity", "language_match", "friend_post"];

    private static (ModelStore Store, TwoStageRanker Ranker) Create(string modelsDirectory, int keep = 200, string provider = "cpu")
    {
        var options = Options.Create(new RankingOptions { ModelsDirectory = modelsDirectory, PreRankKeep = keep, ExecutionProvider = provider, MaxDelayMicroseconds = 100 });
        var store = new ModelStore(options, NullLoggerFactory.Instance);
        return (store, new TwoStageRanker(store, options));
    }

    private static FeatureMatrix Rows(FeatureSchema schema, int n, int seed)
    {
        var random = new Random(seed);
        var data = new float[n * schema.Count];
        for (var i = 0; i < data.Length; i++) data[i] = (float)random.NextDouble();
        return new FeatureMatrix(data, n, schema);
    }

    private static float Sigmoid(double x) => (float)(1 / (1 + Math.Exp(-x)));

    [Fact]
    public async Task Without_a_models_folder_the_default_ONNX_models_reproduce_the_linear_scorer()
    {
        var (store, ranker) = Create(Path.Combine(Path.GetTempPath(), "no-such-models-" + Guid.NewGuid().ToString("N")), keep: 1000);
        using var _ = store;
        Assert.Equal("linear-v0", ranker.ModelVersion);
        Assert.Same(FeatureSchema.Default, ranker.Schema);
        var rows = Rows(FeatureSchema.Default, 300, 1);
        var scores = new float[300];
        await ranker.ScoreAsync(rows, scores, default);

        var weights = DefaultModels.WeightVector();
        Assert.Equal(4.0f, weights[FeatureSchema.Default.IndexOf("ann_similarity")]);
        for (var r = 0; r < 300; r++)
        {
            var dot = 0.0;
            for (var c = 0; c < weights.Length; c++) dot += weights[c] * rows.Row(r)[c];
            Assert.Equal(Sigmoid(dot + DefaultModels.Bias), scores[r], 1e-5);
        }
    }

    [Fact]
    public async Task The_pre_ranker_keeps_the_best_and_the_ranker_combines_its_weighted_outputs()
    {
        using var folder = new ModelFolder();
        var pre = RankerNetwork.Random(Features.Length, 0, [], [("score", HeadActivation.Sigmoid)], seed: 1);
        var main = RankerNetwork.Random(Features.Length, 1, [16, 8], [("p_click", HeadActivation.Sigmoid), ("p_like", HeadActivation.Sigmoid), ("dwell", HeadActivation.Identity)], seed: 2);
        var weights = new Dictionary<string, double> { ["p_click"] = 1.0, ["p_like"] = 0.5, ["dwell"] = 0.1 };
        folder.Write("v1", Features, pre, main, weights);
        var (store, ranker) = Create(folder.Root, keep: 50);
        using var _ = store;
        Assert.Equal("v1", ranker.ModelVersion);
        Assert.Equal(Features, ranker.Schema!.Names);

        const int n = 180;
        var rows = Rows(ranker.Schema!, n, 5);
        var scores = new float[n];
        await ranker.ScoreAsync(rows, scores, default);

        var preScores = new float[n];
        var one = new float[1];
        var three = new float[3];
        for (var r = 0; r < n; r++)
        {
            pre.Evaluate(rows.Row(r), one);
            preScores[r] = one[0];
        }
        var best = Enumerable.Range(0, n).OrderByDescending(r => preScores[r]).ToList();
        var kept = best.Take(50).ToHashSet();
        foreach (var r in kept)
        {
            main.Evaluate(rows.Row(r), three);
            Assert.Equal((three[0] * 1.0) + (three[1] * 0.5) + (three[2] * 0.1), scores[r], 1e-4);
        }
        var lowestKept = kept.Min(r => scores[r]);
        var dropped = best.Skip(50).ToList();
        Assert.All(dropped, r => Assert.True(scores[r] < lowestKept));
        Assert.Equal(dropped, dropped.OrderByDescending(r => scores[r]).ToList()); // dropped keep the pre-ranker's order
    }

    [Fact]
    public async Task Rows_in_another_schema_are_remapped_to_the_models()
    {
        using var folder = new ModelFolder();
        var main = RankerNetwork.Random(Features.Length, 0, [4], [("p_click", HeadActivation.Sigmoid)], seed: 3);
        folder.Write("v1", Features, null, main, new Dictionary<string, double> { ["p_click"] = 1 });
        var (store, ranker) = Create(folder.Root);
        using var _ = store;
        var full = Rows(FeatureSchema.Default, 10, 8);
        var scores = new float[10];
        await ranker.ScoreAsync(full, scores, default);
        var row = new float[Features.Length];
        var one = new float[1];
        for (var r = 0; r < 10; r++)
        {
            for (var c = 0; c < Features.Length; c++) row[c] = full.Row(r)[FeatureSchema.Default.IndexOf(Features[c])];
            main.Evaluate(row, one);
            Assert.Equal(one[0], scores[r], 1e-5);
        }
    }

    [Fact]
    public void A_model_whose_input_width_does_not_match_the_schema_is_refused()
    {
        using var folder = new ModelFolder();
        var main = RankerNetwork.Random(Features.Length + 1, 0, [], [("p_click", HeadActivation.Sigmoid)], seed: 3);
        folder.Write("v1", Features, null, main, new Dictionary<string, double> { ["p_click"] = 1 });
        var (store, _) = (new ModelStore(Options.Create(new RankingOptions { ModelsDirectory = folder.Root, ExecutionProvider = "cpu" }), NullLoggerFactory.Instance), 0);
        using var __ = store;
        var ex = Assert.Throws<ModelRejectedException>(() => store.Current);
        Assert.Contains("takes 7 features per row but the manifest's schema lists 6", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reload_swaps_atomically_in_flight_requests_finish_on_the_old_version_and_a_bad_version_is_refused()
    {
        using var folder = new ModelFolder();
        var weights = new Dictionary<string, double> { ["p_click"] = 1 };
        var v1 = RankerNetwork.Random(Features.Length, 0, [8], [("p_click", HeadActivation.Sigmoid)], seed: 10);
        var v2 = RankerNetwork.Random(Features.Length, 0, [8], [("p_click", HeadActivation.Sigmoid)], seed: 20);
        folder.Write("v1", Features, null, v1, weights);
        var (store, ranker) = Create(folder.Root);
        using var _ = store;
        var schema = ranker.Schema!;
        var rows = Rows(schema, 5, 1);

        var lease = store.Acquire(); // a request in flight on v1
        folder.Write("v2", Features, null, v2, weights);
        var status = await store.ReloadAsync(default);
        Assert.Equal("v2", status.Version);
        Assert.Equal("v2", ranker.ModelVersion);
        Assert.Equal("v2", status.LastReload!.Version);
        Assert.False(lease.IsDisposed);
        var old = new float[5];
        await lease.Ranker.Batcher.ScoreAsync(rows.Data, 5, old, default); // the old version still answers
        var expected = new float[1];
        v1.Evaluate(rows.Row(0), expected);
        Assert.Equal(expected[0], old[0], 1e-5);
        lease.Release();
        Assert.True(lease.IsDisposed); // released with its last lease

        // A corrupt file: refused, v2 keeps serving.
        folder.Write("v3", Features, null, v1, weights);
        var bytes = await File.ReadAllBytesAsync(folder.PathOf("v3", "ranker.onnx"));
        await File.WriteAllBytesAsync(folder.PathOf("v3", "ranker.onnx"), bytes.AsSpan(0, bytes.Length / 3).ToArray());
        var refused = await Assert.ThrowsAsync<ModelRejectedException>(() => store.ReloadAsync(default));
        Assert.Contains("ranker.onnx cannot be loaded", refused.Message, StringComparison.Ordinal);
        Assert.Equal("v2", ranker.ModelVersion);
        Assert.Equal(refused.Message, store.Status.LastReload!.Error);

        // A manifest naming an output the model lacks: refused too.
        folder.Write("v4", Features, null, v1, new Dictionary<string, double> { ["p_like"] = 1 });
        refused = await Assert.ThrowsAsync<ModelRejectedException>(() => store.ReloadAsync(default));
        Assert.Contains("names output 'p_like'", refused.Message, StringComparison.Ordinal);

        // An unknown feature in the schema: refused.
        folder.Write("v5", [.. Features[..5], "no_such_feature"], null, v1, weights);
        refused = await Assert.ThrowsAsync<ModelRejectedException>(() => store.ReloadAsync(default));
        Assert.Contains("no_such_feature", refused.Message, StringComparison.Ordinal);

        var scores = new float[5];
        await ranker.ScoreAsync(rows, scores, default);
        v2.Evaluate(rows.Row(0), expected);
        Assert.Equal(expected[0], scores[0], 1e-5);
    }

    [Fact]
    public void Cuda_requested_without_a_GPU_fails_the_load_clearly_and_auto_serves_on_cpu()
    {
        var nowhere = Path.Combine(Path.GetTempPath(), "no-such-models-" + Guid.NewGuid().ToString("N"));
        using var cuda = new ModelStore(Options.Create(new RankingOptions { ModelsDirectory = nowhere, ExecutionProvider = "cuda" }), NullLoggerFactory.Instance);
        var ex = Assert.Throws<OnnxRuntimeException>(() => cuda.Current);
        Assert.Equal(OrtErrorCode.EpFail, ex.Code);

        var logger = new OrtBindingTests.ListLogger();
        using var auto = new ModelStore(Options.Create(new RankingOptions { ModelsDirectory = nowhere, ExecutionProvider = "auto" }), new SingleLoggerFactory(logger));
        Assert.Equal("cpu", auto.Status.ExecutionProvider);
        Assert.Single(logger.Lines, l => l.Contains("CUDA execution provider unavailable", StringComparison.Ordinal)); // one line for both models
    }

    private sealed class SingleLoggerFactory(Microsoft.Extensions.Logging.ILogger logger) : Microsoft.Extensions.Logging.ILoggerFactory
    {
        public void AddProvider(Microsoft.Extensions.Logging.ILoggerProvider provider) { }
        public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => logger;
        public void Dispose() { }
    }
}
