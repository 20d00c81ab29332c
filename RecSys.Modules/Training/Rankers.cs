using RecSys.Features;
using RecSys.Training.Rankers;

namespace RecSys.Training;

/// <summary>Optimiser settings of the ranker trainers.</summary>
public sealed record RankerTrainingOptions
{
    public double LearningRate { get; init; } = 0.003;
    public int BatchSize { get; init; } = 256;
    public int MaxEpochs { get; init; } = 20;

    /// <summary>Stop after this many epochs without a better validation loss (the best epoch's weights are kept).</summary>
    public int Patience { get; init; } = 2;

    public double L2 { get; init; } = 1e-5;
    public int Seed { get; init; } = 42;

    /// <summary>The share of rows, the latest by time, held out for early stopping and the reported metrics.</summary>
    public double ValidationFraction { get; init; } = 0.2;
}

/// <summary>A trained ranker with its validation figures.</summary>
public sealed record TrainedRanker(string Name, DenseNetwork Network, int BestEpoch, int Epochs, double ValidationLogLoss, double ValidationAuc, int TrainRows, int ValidationRows);

/// <summary>
/// The two rankers of the funnel, trained on point-in-time <see cref="RankingRows"/> with a time-ordered validation
/// split: the pre-ranker is logistic regression on the cheap features, the main ranker an MLP on the whole schema.
/// </summary>
public static class RankerTraining
{
    /// <summary>Features the pre-ranker reads: cheap to fetch for hundreds of candidates.</summary>
    public static FeatureSchema PreRankerSchema { get; } = FeatureSchema.FromNames(
        ["ann_similarity", "item_ctr", "item_popularity", "item_freshness_hours", "user_category_affinity", "language_match", "item_engagement_score"]);

    public static TrainedRanker TrainPreRanker(RankingRows rows, RankerTrainingOptions? options = null) =>
        Train("pre-ranker (logistic regression)", rows, PreRankerSchema, [], options ?? new());

    public static TrainedRanker TrainRanker(RankingRows rows, int[]? hidden = null, RankerTrainingOptions? options = null) =>
        Train("ranker (MLP)", rows, rows?.Schema ?? throw new ArgumentNullException(nameof(rows)), hidden ?? [64, 32], options ?? new());

    public static TrainedRanker Train(string name, RankingRows rows, FeatureSchema schema, int[] hidden, RankerTrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(options);
        if (rows.Count < 10) throw new ArgumentException($"{rows.Count} rows are too few to train a ranker.", nameof(rows));
        // Rows are in time order: the latest ones validate.
        var cut = (int)(rows.Count * (1 - options.ValidationFraction));
        // A feature constant over the training rows (the device without a logged device, the source flags of logged
        // impressions) teaches nothing, and its first-layer weights would stay at their random start: a value it takes
        // only at serving time would then move scores at random. Such features are left out (weight 0 when exported).
        schema = FeatureSchema.FromNames(schema.Names.Where(name => !IsConstant(rows, rows.Schema.IndexOf(name), cut)).ToList());
        var x = rows.Project(schema);
        var train = Enumerable.Range(0, cut).ToArray();
        var validation = Enumerable.Range(cut, rows.Count - cut).ToArray();
        var names = schema.Names.ToArray();
        var (network, bestEpoch, epochs, loss) = NetworkTrainer.Train(names, x, rows.Click, train, validation, hidden, options);
        var scores = new float[validation.Length];
        var labels = new float[validation.Length];
        for (var n = 0; n < validation.Length; n++)
        {
            scores[n] = network.Predict(x.AsSpan(validation[n] * names.Length, names.Length));
            labels[n] = rows.Click[validation[n]];
        }
        return new TrainedRanker(name, network, bestEpoch, epochs, Metrics.LogLoss(scores, labels), Metrics.Auc(scores, labels), train.Length, validation.Length);
    }

    private static bool IsConstant(RankingRows rows, int column, int count)
    {
        if (count == 0) return true;
        var first = rows.Row(0)[column];
        for (var r = 1; r < count; r++)
        {
            if (rows.Row(r)[column] != first) return false;
        }
        return true;
    }
}
