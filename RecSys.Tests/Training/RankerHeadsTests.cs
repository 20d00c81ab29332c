using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RecSys.Features;
using RecSys.Ranking;
using RecSys.Ranking.TwoStage;
using RecSys.Training;
using RecSys.Training.Funnel;
using RecSys.Training.Rankers;

namespace RecSys.Tests.Training;

public class RankerHeadsTests
{
    private static readonly string[] Names = ["a", "b", "c"];

    [Fact]
    public void Each_head_learns_its_own_label_over_the_shared_trunk()
    {
        // Click depends on a, like on b, dwell on c: each head must rank its own label well and the others' at chance.
        var rng = new Random(5);
        const int rows = 3000;
        var x = new float[rows * 3];
        var labels = new[] { new float[rows], new float[rows], new float[rows] };
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < 3; c++) x[(r * 3) + c] = (float)((rng.NextDouble() * 2) - 1);
            for (var h = 0; h < 3; h++) labels[h][r] = rng.NextDouble() < 1 / (1 + Math.Exp(-4 * x[(r * 3) + h])) ? 1 : 0;
        }
        var train = Enumerable.Range(0, 2400).ToArray();
        var validation = Enumerable.Range(2400, 600).ToArray();
        var options = new RankerTrainingOptions { MaxEpochs = 40, Patience = 5, LearningRate = 0.03, BatchSize = 64, Seed = 3 };
        var (network, _, _, _) = NetworkTrainer.Train(Names, x, labels, ["p_click", "p_like", "p_dwell"], [1f, 1f, 1f], train, validation, [8], options);
        Assert.Equal(["p_click", "p_like", "p_dwell"], network.Heads);
        Assert.Equal([3, 8, 3], network.Sizes);

        var scores = new[] { new float[600], new float[600], new float[600] };
        Span<float> p = stackalloc float[3];
        for (var n = 0; n < 600; n++)
        {
            network.PredictHeads(x.AsSpan(validation[n] * 3, 3), p);
            for (var h = 0; h < 3; h++) scores[h][n] = p[h];
        }
        for (var h = 0; h < 3; h++)
        {
            var own = Metrics.Auc(scores[h], [.. validation.Select(r => labels[h][r])]);
            var other = Metrics.Auc(scores[h], [.. validation.Select(r => labels[(h + 1) % 3][r])]);
            Assert.True(own > 0.75, $"head {h}: AUC {own:0.000} on its own label");
            Assert.InRange(other, 0.4, 0.6);
        }
        // Predict is the first head.
        network.PredictHeads(x.AsSpan(0, 3), p);
        Assert.Equal(p[0], network.Predict(x.AsSpan(0, 3)));
    }

    [Fact]
    public void One_head_is_exactly_the_single_label_network()
    {
        var rng = new Random(9);
        var x = Enumerable.Range(0, 600 * 3).Select(_ => (float)rng.NextDouble()).ToArray();
        var y = Enumerable.Range(0, 600).Select(r => x[r * 3] + (0.3 * rng.NextDouble()) > 0.6 ? 1f : 0f).ToArray();
        var train = Enumerable.Range(0, 500).ToArray();
        var validation = Enumerable.Range(500, 100).ToArray();
        var options = new RankerTrainingOptions { MaxEpochs = 4 };
        var single = NetworkTrainer.Train(Names, x, y, train, validation, [4], options);
        var headed = NetworkTrainer.Train(Names, x, [y], ["p_click"], [1f], train, validation, [4], options);
        Assert.Equal(single.ValidationLoss, headed.ValidationLoss);
        for (var l = 0; l < single.Network.Layers; l++) Assert.Equal(single.Network.Weights[l], headed.Network.Weights[l]);
    }

    [Fact]
    public void Rows_without_like_or_dwell_labels_keep_the_click_head()
    {
        var schema = FeatureSchema.FromNames(["ann_similarity", "item_ctr"]);
        const int n = 200;
        var rng = new Random(2);
        var features = Enumerable.Range(0, n * 2).Select(_ => (float)rng.NextDouble()).ToArray();
        var click = Enumerable.Range(0, n).Select(r => r % 3 == 0 ? 1f : 0f).ToArray();
        var like = Enumerable.Range(0, n).Select(r => r % 6 == 0 ? 1f : 0f).ToArray();
        var dwell = Enumerable.Range(0, n).Select(r => r % 3 == 0 ? (float)(r % 60) : 0f).ToArray();
        RankingRows Rows(bool impressions, float[] l, float[] d) =>
            new(schema, features, click, l, d, new long[n], new int[n], new int[n], impressions);

        Assert.Equal(["p_click", "p_like", "p_dwell"], RankerTraining.Heads(Rows(true, like, dwell), null, 160).Select(h => h.Name));
        // Sampled negatives (MovieLens): the click head only, whatever the like column holds.
        Assert.Equal(["p_click"], RankerTraining.Heads(Rows(false, like, dwell), null, 160).Select(h => h.Name));
        // A label without both classes in the training part gets no head.
        Assert.Equal(["p_click", "p_dwell"], RankerTraining.Heads(Rows(true, new float[n], dwell), null, 160).Select(h => h.Name));
        Assert.Equal(["p_click"], RankerTraining.Heads(Rows(true, like, dwell), new RankerHeadsOptions { Enabled = false }, 160).Select(h => h.Name));
        // The dwell label is the threshold on the seconds.
        var dwellHead = RankerTraining.Heads(Rows(true, like, dwell), new RankerHeadsOptions { DwellThresholdSeconds = 30 }, 160).Single(h => h.Name == "p_dwell");
        Assert.Equal(dwell.Select(d => d >= 30 ? 1f : 0f), dwellHead.Labels);
    }

    [Fact]
    public async Task A_multi_head_ranker_from_train_loads_in_the_service_and_scores_as_the_trainers_weighted_heads()
    {
        using var dir = new TempDirectory();
        var dataset = DatasetReaders.FromDemoWorld(TestWorld.Small);
        var heads = new RankerHeadsOptions { LikeWeight = 0.7, DwellWeight = 0.2 };
        var run = await Trainer.RunAsync(dataset, new TrainingOptions
        {
            Als = new AlsOptions { Factors = 8, Iterations = 3 },
            Evaluate = false,
            HnswIndex = null,
            ModelsDirectory = dir.Path,
            Version = "heads",
            RankerHeads = heads,
        }, null, CancellationToken.None);
        var ranker = run.Rankers[1];
        Assert.Equal(["p_click", "p_like", "p_dwell"], ranker.Network.Heads);
        Assert.Equal([1.0, 0.7, 0.2], ranker.OutputWeights);
        Assert.All(ranker.HeadAuc.Values, auc => Assert.InRange(auc, 0.5, 1.0));

        // The service's model store loads the version, and the two-stage ranker (keeping every row for the ranker)
        // scores each row as Σ weight × head of the trainer's network: the funnel evaluation's FoldedNetwork.
        var options = Options.Create(new RankingOptions { ModelsDirectory = dir.Path, PreRankKeep = 1000, ExecutionProvider = "cpu", MaxDelayMicroseconds = 100 });
        using var store = new ModelStore(options, NullLoggerFactory.Instance);
        var service = new TwoStageRanker(store, options);
        Assert.Equal("heads", service.ModelVersion);
        var schema = service.Schema!;
        const int n = 200;
        var rng = new Random(4);
        var data = Enumerable.Range(0, n * schema.Count).Select(_ => (float)rng.NextDouble()).ToArray();
        var scores = new float[n];
        await service.ScoreAsync(new FeatureMatrix(data, n, schema), scores, default);

        var expected = new float[n];
        new FoldedNetwork(ranker.Network, schema.Names.ToList(), ranker.OutputWeights).Score(data, n, expected);
        var clickOnly = new float[n];
        new FoldedNetwork(ranker.Network, schema.Names.ToList()).Score(data, n, clickOnly);
        for (var r = 0; r < n; r++) Assert.True(Math.Abs(expected[r] - scores[r]) < 1e-5, $"row {r}: service {scores[r]}, trainer {expected[r]}");
        Assert.True(expected.Zip(clickOnly).Max(p => Math.Abs(p.First - p.Second)) > 1e-3, "the like and dwell heads do not move the score");

        // `recommend` reads the same weights back (rankers.json heads, manifest outputs).
        Assert.True(TrainedModel.Load(dir.Path).HasFunnel);
    }
}
