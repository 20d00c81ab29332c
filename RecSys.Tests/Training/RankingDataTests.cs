using RecSys.Events;
using RecSys.Features;
using RecSys.Training;

namespace RecSys.Tests.Training;

public class RankingDataTests
{
    private static readonly AlsOptions TinyAls = new() { Factors = 4, Iterations = 2 };

    [Fact]
    public void A_row_sees_only_events_strictly_before_its_impression()
    {
        // Users A, B, C; items X, Y. A is shown X at t=100 and clicks it at t=101.
        string[] users = ["A", "B", "C"];
        string[] items = ["X", "Y"];
        Interaction[] events =
        [
            new(1, 0, EventType.Click, 50, 0),       // B clicks X before: counted
            new(0, 1, EventType.Click, 60, 0),       // A's history: Y
            new(0, 0, EventType.Impression, 100, 0), // the row
            new(2, 0, EventType.Click, 100, 0),      // same second: not before, so not counted
            new(0, 0, EventType.Click, 101, 0),      // the label
            new(1, 0, EventType.Click, 150, 0),      // the future: not counted
        ];
        var dataset = new InteractionDataset("t", users, items, events);
        var als = ImplicitAls.Train(Splits.Full(dataset), TinyAls);
        var rows = RankingData.Build(dataset, als, new RankingDataOptions { FromUnixSeconds = 0 });

        var row = Assert.Single(Enumerable.Range(0, rows.Count));
        Assert.True(rows.FromImpressions);
        Assert.Equal(1f, rows.Click[row]);
        var schema = rows.Schema;
        var f = rows.Row(row);
        Assert.Equal((1 + 1f) / (0 + 20f), f[schema.IndexOf("item_ctr")]);           // one click, no impression yet
        Assert.Equal(MathF.Log(1 + 1) / 10f, f[schema.IndexOf("item_popularity")]);
        Assert.Equal(MathF.Log(1 + 1) / 5f, f[schema.IndexOf("user_activity")]);      // A's history holds Y only
        Assert.Equal(1f, f[schema.IndexOf("source_ann")]);
    }

    [Fact]
    public void Rows_do_not_change_when_the_future_is_cut_off()
    {
        // Build rows from the whole log and from the log truncated at time T; every row before T must be identical.
        var full = DatasetReaders.FromDemoWorld(TestWorld.Small);
        var from = Splits.QuantileTime(full, 0.5);
        var truncateAt = Splits.QuantileTime(full, 0.75);
        // (The social graph has no timestamps: both logs carry the same one.)
        var past = new InteractionDataset("past", full.UserIds, full.ItemIds, full.Events.Where(e => e.UnixSeconds < truncateAt).ToArray(), full.Items, full.Users) { Social = full.Social };
        // Retrieval trained on the data before the rows' window, as the trainer does.
        var before = new InteractionDataset("before", full.UserIds, full.ItemIds, full.Events.Where(e => e.UnixSeconds < from).ToArray(), full.Items, full.Users);
        var als = ImplicitAls.Train(Splits.Full(before), TinyAls);
        var options = new RankingDataOptions { FromUnixSeconds = from, MaxRows = int.MaxValue };

        var a = RankingData.Build(full, als, options);
        var b = RankingData.Build(past, als, options);
        var compared = 0;
        for (var r = 0; r < b.Count && b.Times[r] < truncateAt; r++)
        {
            Assert.Equal((a.Users[r], a.Items[r], a.Times[r]), (b.Users[r], b.Items[r], b.Times[r]));
            Assert.True(a.Row(r).SequenceEqual(b.Row(r)), $"row {r} at {a.Times[r]} differs once the future is removed");
            compared++;
        }
        Assert.True(compared > 1000, $"only {compared} rows compared");
        Assert.True(a.Count > b.Count);
        Assert.True(a.Click.Sum() > 0);
    }

    [Fact]
    public void Without_impressions_each_positive_gets_retrieved_negatives_the_user_never_touched()
    {
        // A MovieLens-like log: ratings only.
        var rng = new Random(4);
        var events = new List<Interaction>();
        for (var t = 0; t < 2000; t++) events.Add(new Interaction(rng.Next(30), rng.Next(60), EventType.Click, t, 4));
        var dataset = new InteractionDataset("ratings", Enumerable.Range(0, 30).Select(u => $"u{u}").ToArray(), Enumerable.Range(0, 60).Select(i => $"i{i}").ToArray(), [.. events]);
        var als = ImplicitAls.Train(Splits.Full(dataset), TinyAls);
        var rows = RankingData.Build(dataset, als, new RankingDataOptions { FromUnixSeconds = 1000, NegativesPerPositive = 3, CandidatePool = 20 });

        Assert.False(rows.FromImpressions);
        var touched = events.Select(e => (e.UserIndex, e.ItemIndex)).ToHashSet();
        var positives = 0;
        for (var r = 0; r < rows.Count; r++)
        {
            Assert.True(rows.Times[r] >= 1000);
            if (rows.Click[r] == 1) positives++;
            else Assert.DoesNotContain((rows.Users[r], rows.Items[r]), touched);
        }
        Assert.True(positives > 0);
        Assert.True(rows.Count - positives >= 2 * positives, $"{positives} positives, {rows.Count - positives} negatives");
    }
}

public class RankerTrainingTests
{
    /// <summary>Rows of two standard-normal features with a label rule; a few noise features.</summary>
    private static (float[] X, float[] Y) Synthetic(Func<float, float, bool> rule, int n, int seed)
    {
        var rng = new Random(seed);
        var x = new float[n * 3];
        var y = new float[n];
        for (var r = 0; r < n; r++)
        {
            for (var c = 0; c < 3; c++) x[(r * 3) + c] = (float)((rng.NextDouble() * 2) - 1);
            y[r] = rule(x[r * 3], x[(r * 3) + 1]) ? 1 : 0;
        }
        return (x, y);
    }

    private static double ValidationAuc(DenseNetwork net, float[] x, float[] y, int[] rows) =>
        Metrics.Auc(rows.Select(r => net.Predict(x.AsSpan(r * 3, 3))).ToArray(), rows.Select(r => y[r]).ToArray());

    private static readonly string[] Names = ["a", "b", "noise"];

    [Fact]
    public void Logistic_regression_learns_a_linear_rule_and_the_MLP_learns_xor_which_it_cannot()
    {
        var train = Enumerable.Range(0, 3000).ToArray();
        var validation = Enumerable.Range(3000, 1000).ToArray();
        var options = new RankerTrainingOptions { MaxEpochs = 30, LearningRate = 0.01 };

        var (lx, ly) = Synthetic((a, b) => a + b > 0, 4000, 1);
        var linear = RecSys.Training.Rankers.NetworkTrainer.Train(Names, lx, ly, train, validation, [], options).Network;
        Assert.True(ValidationAuc(linear, lx, ly, validation) > 0.97);

        var (xx, xy) = Synthetic((a, b) => a > 0 ^ b > 0, 4000, 2);
        var lr = RecSys.Training.Rankers.NetworkTrainer.Train(Names, xx, xy, train, validation, [], options).Network;
        var mlp = RecSys.Training.Rankers.NetworkTrainer.Train(Names, xx, xy, train, validation, [16, 8], options).Network;
        Assert.True(ValidationAuc(lr, xx, xy, validation) < 0.65);
        Assert.True(ValidationAuc(mlp, xx, xy, validation) > 0.9);
    }

    [Fact]
    public void Training_is_deterministic_per_seed_and_stops_early()
    {
        var (x, y) = Synthetic((a, b) => a > 0.2f, 1000, 3);
        var train = Enumerable.Range(0, 800).ToArray();
        var validation = Enumerable.Range(800, 200).ToArray();
        var options = new RankerTrainingOptions { MaxEpochs = 200, Patience = 2, LearningRate = 0.05 };
        var one = RecSys.Training.Rankers.NetworkTrainer.Train(Names, x, y, train, validation, [8], options);
        var two = RecSys.Training.Rankers.NetworkTrainer.Train(Names, x, y, train, validation, [8], options);
        Assert.Equal(one.Network.Weights[0], two.Network.Weights[0]);
        Assert.Equal(one.Network.Biases[1], two.Network.Biases[1]);
        Assert.True(one.Epochs < 200, $"ran all {one.Epochs} epochs");
        Assert.Equal(one.Epochs - options.Patience, one.BestEpoch);
        var other = RecSys.Training.Rankers.NetworkTrainer.Train(Names, x, y, train, validation, [8], options with { Seed = 9 });
        Assert.NotEqual(one.Network.Weights[0], other.Network.Weights[0]);
    }

    [Fact]
    public void A_network_predicts_what_its_arrays_say()
    {
        // Inputs standardised with mean (1, 0) and scale (2, 1); hidden = relu(W1 z + b1); out = sigmoid(W2 h + b2).
        var net = new DenseNetwork(["a", "b"], [1f, 0f], [2f, 1f], [[1f, -1f, 0.5f, 2f], [3f, -2f]], [[0f, 0.1f], [0.25f]]);
        // z = ((3 - 1) / 2, 1) = (1, 1); h = relu(1 - 1 + 0, 0.5 + 2 + 0.1) = (0, 2.6); logit = 3*0 - 2*2.6 + 0.25 = -4.95.
        Assert.Equal(1 / (1 + Math.Exp(4.95)), net.Predict([3f, 1f]), 6);
        Assert.Equal([2, 2, 1], net.Sizes);
    }
}

public class RankingDataSocialTests
{
    [Fact]
    public void Social_features_come_from_the_datasets_edges_friendship_both_ways()
    {
        // A (0) is shown an item by author B (1); B made A a friend (edge B -> A); A follows B.
        Interaction[] events = [new(0, 0, EventType.Impression, 10, 0)];
        var items = new[] { new ItemMetadata("t", "c", "B", null, null, 0, []) };
        var dataset = new InteractionDataset("s", ["A", "B"], ["X"], events, items)
        {
            Social = [new(1, 0, RecSys.Catalog.SocialEdgeKind.Friend), new(0, 1, RecSys.Catalog.SocialEdgeKind.Follow)],
        };
        var als = ImplicitAls.Train(Splits.Full(dataset), new AlsOptions { Factors = 2, Iterations = 1 });
        var rows = RankingData.Build(dataset, als, new RankingDataOptions());
        var f = rows.Row(0);
        Assert.Equal(1f, f[rows.Schema.IndexOf("friend_post")]);
        Assert.Equal(1f, f[rows.Schema.IndexOf("follows_author")]);
        Assert.Equal(0f, f[rows.Schema.IndexOf("same_group")]);
    }
}
