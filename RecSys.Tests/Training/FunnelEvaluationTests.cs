using RecSys.Events;
using RecSys.Features;
using RecSys.Training;
using RecSys.Training.Funnel;

namespace RecSys.Tests.Training;

public class FunnelEvaluationTests
{
    private static readonly AlsOptions TinyAls = new() { Factors = 8, Iterations = 6, Regularization = 1 };

    /// <summary>Small stages so that the pre-ranker really drops candidates on a 100-item catalog.</summary>
    private static readonly FunnelOptions Small = new() { AnnCount = 30, PopularCount = 10, PreRankKeep = 15 };

    /// <summary>
    /// Ratings only (MovieLens-like): two taste clusters (even and odd items), popularity skewed within each; each user
    /// rates 20 items over time, interleaved with the others, 90% in their own cluster.
    /// </summary>
    private static InteractionDataset Planted(int seed = 5)
    {
        const int users = 80, items = 100, perUser = 20;
        var rng = new Random(seed);
        var events = new List<Interaction>();
        for (var u = 0; u < users; u++)
        {
            var seen = new HashSet<int>();
            for (var n = 0; n < perUser; n++)
            {
                int item;
                do
                {
                    var cluster = rng.NextDouble() < 0.9 ? u % 2 : 1 - (u % 2);
                    var rank = (int)(50 * Math.Pow(rng.NextDouble(), 2)); // low ranks more popular
                    item = (2 * rank) + cluster;
                }
                while (!seen.Add(item));
                events.Add(new Interaction(u, item, EventType.Click, (n * 1000) + (u * 7), 4));
            }
        }
        return new InteractionDataset("planted", Enumerable.Range(0, users).Select(u => $"u{u}").ToArray(), Enumerable.Range(0, items).Select(i => $"i{i}").ToArray(),
            [.. events.OrderBy(e => e.UnixSeconds)]);
    }

    /// <summary>Logistic regression on one feature with the given weight (standardisation is the identity).</summary>
    private static DenseNetwork On(string feature, float weight) => new([feature], [0f], [1f], [[weight]], [[0f]]);

    private static FunnelResult Run(InteractionDataset dataset, DataSplit split, AlsModel als, DenseNetwork pre, DenseNetwork ranker)
    {
        var users = Evaluation.EvaluatedUsers(split, 0, 1);
        return FunnelEvaluation.Evaluate("funnel", dataset, split, users, als, pre, ranker, Small, new RankingDataOptions());
    }

    [Fact]
    public void The_funnel_row_is_the_rankers_order_a_reversed_ranker_measurably_loses()
    {
        var dataset = Planted();
        var split = Splits.PerUserTemporal(dataset, 0.2);
        var als = ImplicitAls.Train(split.Train, TinyAls);
        var pre = On("ann_similarity", 1f);
        var good = Run(dataset, split, als, pre, On("ann_similarity", 5f));
        var reversed = Run(dataset, split, als, pre, On("ann_similarity", -5f));

        // The pre-ranker keeps the same 15 either way; only the ranker's order within them differs.
        Assert.Equal(good.PreRankerAuc, reversed.PreRankerAuc);
        Assert.Equal(good.CandidateRecall, reversed.CandidateRecall);
        Assert.True(good.Metrics["ndcg@10"] > reversed.Metrics["ndcg@10"] + 0.05, $"ndcg@10 {good.Metrics["ndcg@10"]:0.000} vs reversed {reversed.Metrics["ndcg@10"]:0.000}");
        Assert.True(good.Metrics["recall@10"] > reversed.Metrics["recall@10"] + 0.05, $"recall@10 {good.Metrics["recall@10"]:0.000} vs reversed {reversed.Metrics["recall@10"]:0.000}");
        Assert.True(good.RankerAuc > 0.6 && reversed.RankerAuc < 0.4, $"ranker AUC {good.RankerAuc:0.000}, reversed {reversed.RankerAuc:0.000}");
        Assert.InRange(good.MeanCandidates, 30, 40);

        // Plain retrieval's order is the candidates' ann_similarity: the rankers do not move it, and a ranker that is an
        // increasing function of that score alone orders every user's kept list exactly as retrieval does.
        Assert.Equal(good.RetrievalUserAuc, reversed.RetrievalUserAuc);
        Assert.Equal(good.RetrievalKeptAuc, reversed.RetrievalKeptAuc);
        Assert.Equal(good.RetrievalKeptAuc, good.RankerKeptAuc, 6);
        Assert.Equal(1 - good.RetrievalKeptAuc, reversed.RankerKeptAuc, 6);
        Assert.Equal(good.PreRankerUserAuc, good.RetrievalUserAuc, 6);
        // With a pre-ranker on another feature, retrieval's figures are still the ann_similarity order's, not the pre-ranker's.
        var byPopularity = Run(dataset, split, als, On("item_popularity", 1f), On("ann_similarity", 5f));
        Assert.Equal(byPopularity.RankerUserAuc, byPopularity.RetrievalUserAuc, 6);
        Assert.Equal(byPopularity.RankerKeptAuc, byPopularity.RetrievalKeptAuc, 6);
        Assert.True(Math.Abs(byPopularity.PreRankerUserAuc - byPopularity.RetrievalUserAuc) > 0.01, $"pre-ranker {byPopularity.PreRankerUserAuc:0.000}, retrieval {byPopularity.RetrievalUserAuc:0.000}");
        Assert.Equal(good.CandidateRows, (long)Math.Round(good.MeanCandidates * good.Metrics.Users));
    }

    [Fact]
    public void No_held_out_event_reaches_a_feature_while_a_training_event_does()
    {
        var dataset = Planted(6);
        var split = Splits.PerUserTemporal(dataset, 0.2);
        var als = ImplicitAls.Train(split.Train, TinyAls);
        // Both stages read counters of the replayed log: a leak of held-out clicks into them would change the result.
        var pre = On("item_popularity", 1f);
        var ranker = On("item_popularity", 3f);
        var baseline = Run(dataset, split, als, pre, ranker);

        // Many more clicks on held-out pairs, each after the pair's own first event (so every user is served at the
        // same time as before): none of them may reach a feature.
        var heldOut = Enumerable.Range(0, dataset.UserCount).SelectMany(u => split.TestItems[u].Select(i => (u, i))).ToHashSet();
        var first = new Dictionary<(int, int), long>();
        foreach (var e in dataset.Events) first.TryAdd((e.UserIndex, e.ItemIndex), e.UnixSeconds);
        Interaction[] Extra(IEnumerable<(int U, int I)> pairs) =>
            [.. pairs.SelectMany(p => Enumerable.Range(1, 5).Select(k => new Interaction(p.U, p.I, EventType.Click, first[(p.U, p.I)] + k, 4)))];
        InteractionDataset With(Interaction[] extra) =>
            new("more", dataset.UserIds, dataset.ItemIds, [.. dataset.Events.Concat(extra).OrderBy(e => e.UnixSeconds)]);

        var leaked = Run(With(Extra(heldOut)), split, als, pre, ranker);
        Assert.Equal(baseline.Metrics.Values, leaked.Metrics.Values);
        Assert.Equal(baseline.RankerAuc, leaked.RankerAuc);
        Assert.Equal(baseline.PreRankerAuc, leaked.PreRankerAuc);

        // The control: the same number of extra clicks on training pairs does change the features, hence the result.
        var training = Enumerable.Range(0, dataset.UserCount).SelectMany(u => split.Train.RowIndices(u).ToArray().Take(2).Select(i => (u, i))).ToList();
        var control = Run(With(Extra(training)), split, als, pre, ranker);
        Assert.NotEqual(baseline.RankerAuc, control.RankerAuc);
    }

    [Fact]
    public void The_training_events_of_a_split_hold_no_event_of_a_held_out_pair()
    {
        var dataset = Planted(7);
        var split = Splits.PerUserTemporal(dataset, 0.25);
        var training = FunnelEvaluation.TrainingEvents(dataset, split);
        var heldOut = Enumerable.Range(0, dataset.UserCount).SelectMany(u => split.TestItems[u].Select(i => (u, i))).ToHashSet();
        Assert.NotEmpty(heldOut);
        Assert.DoesNotContain(training.Events, e => heldOut.Contains((e.UserIndex, e.ItemIndex)));
        Assert.Equal(dataset.Events.Length, training.Events.Length + dataset.Events.Count(e => heldOut.Contains((e.UserIndex, e.ItemIndex))));
        // Training on those events gives exactly the split's training matrix.
        Assert.Equal(split.Train.NonZeros, Splits.Full(training).NonZeros);
    }

    [Fact]
    public void The_funnels_network_scores_as_the_exported_onnx_model_in_onnx_runtime()
    {
        var schema = FeatureSchema.Default.Names.ToList();
        var rng = new Random(11);
        string[] features = ["ann_similarity", "item_ctr", "item_popularity", "source_popular", "user_activity"];
        float[] R(int n, double scale) => [.. Enumerable.Range(0, n).Select(_ => (float)(((rng.NextDouble() * 2) - 1) * scale))];
        var network = new DenseNetwork(features, R(5, 1), [.. R(5, 1).Select(v => 0.5f + Math.Abs(v))], [R(8 * 5, 1), R(4 * 8, 1), R(4, 1)], [R(8, 0.1), R(4, 0.1), R(1, 0.1)]);
        const int n = 50;
        var rows = R(n * schema.Count, 2);
        var expected = new float[n];
        new FoldedNetwork(network, schema).Score(rows, n, expected);

        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "ranker.onnx");
        File.WriteAllBytes(path, RecSys.Ranking.OnnxModelExport.WriteSigmoidNetwork(schema.Count, network.FoldedLayers(schema), "p_click"));
        using var onnx = RecSys.Ranking.Onnx.OnnxModel.Load(RecSys.Tests.Ranking.OrtBindingTests.Runtime, path, RecSys.Tests.Ranking.OrtBindingTests.Cpu);
        var actual = new float[n];
        onnx.Run(rows, n, schema.Count, actual);
        for (var r = 0; r < n; r++)
        {
            Assert.True(Math.Abs(expected[r] - actual[r]) < 1e-5, $"row {r}: funnel {expected[r]}, ONNX Runtime {actual[r]}");
            // And both are the trainer's own prediction on the network's columns.
            Assert.Equal(network.Predict([.. features.Select(f => rows[(r * schema.Count) + schema.IndexOf(f)])]), expected[r], 5);
        }
        Assert.True(expected.Max() - expected.Min() > 0.1, "scores do not depend on the rows");
    }
}
