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

/// <summary>
/// The main ranker's heads where the rows carry more labels than the click (logged impressions with likes and dwell):
/// <c>p_click</c>, <c>p_like</c> = P(like within the label window) and <c>p_dwell</c> = P(dwell ≥ <see cref="DwellThresholdSeconds"/>
/// within it), each over all impressions, as sigmoid outputs of one network with a shared trunk. Serving ranks by
/// Σ weight × head (the manifest's output weights, written from these). Rows without such labels (MovieLens, sampled
/// negatives) keep the single click head.
/// </summary>
public sealed record RankerHeadsOptions
{
    /// <summary>Train the extra heads when the labels exist; false: the click head only.</summary>
    public bool Enabled { get; init; } = true;

    [System.ComponentModel.DataAnnotations.Range(0.0, 1000.0)]
    public double ClickWeight { get; init; } = 1.0;

    [System.ComponentModel.DataAnnotations.Range(0.0, 1000.0)]
    public double LikeWeight { get; init; } = 0.5;

    [System.ComponentModel.DataAnnotations.Range(0.0, 1000.0)]
    public double DwellWeight { get; init; } = 0.3;

    /// <summary>A dwell at least this long (seconds, summed over the label window) is a positive of the dwell head.</summary>
    [System.ComponentModel.DataAnnotations.Range(0.0, 86_400.0)]
    public double DwellThresholdSeconds { get; init; } = 30;
}

/// <summary>A trained ranker with its validation figures (<see cref="ValidationAuc"/> and log loss: the click head).</summary>
public sealed record TrainedRanker(string Name, DenseNetwork Network, int BestEpoch, int Epochs, double ValidationLogLoss, double ValidationAuc, int TrainRows, int ValidationRows)
{
    /// <summary>Each head's validation AUC against its own label, by head name.</summary>
    public IReadOnlyDictionary<string, double> HeadAuc { get; init; } = new Dictionary<string, double>();

    /// <summary>Each head's weight in the served score (the manifest's ranker outputs), in <see cref="DenseNetwork.Heads"/> order.</summary>
    public IReadOnlyList<double> OutputWeights { get; init; } = [1.0];

    /// <summary>The weights by head name, as the manifest writes them.</summary>
    public IReadOnlyDictionary<string, double> Outputs => Network.Heads.Select((h, i) => (h, i)).ToDictionary(p => p.h, p => OutputWeights[p.i], StringComparer.Ordinal);
}

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

    public const string LikeHead = "p_like";
    public const string DwellHead = "p_dwell";

    /// <param name="heads">Which heads beside the click to train where the rows have their labels (null: the defaults).</param>
    public static TrainedRanker TrainRanker(RankingRows rows, int[]? hidden = null, RankerTrainingOptions? options = null, RankerHeadsOptions? heads = null) =>
        Train("ranker (MLP)", rows, rows?.Schema ?? throw new ArgumentNullException(nameof(rows)), hidden ?? [64, 32], options ?? new(), heads ?? new());

    /// <summary>The heads a ranker on <paramref name="rows"/> gets: the click, and like / dwell where rows are logged impressions whose training part has both classes of that label.</summary>
    public static IReadOnlyList<(string Name, float[] Labels, double Weight)> Heads(RankingRows rows, RankerHeadsOptions? options, int trainRows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var o = options ?? new RankerHeadsOptions();
        var heads = new List<(string, float[], double)> { (DenseNetwork.ClickHead, rows.Click, o.ClickWeight) };
        if (!o.Enabled || !rows.FromImpressions) return heads;
        static bool BothClasses(float[] y, int n) => y.AsSpan(0, n).ContainsAnyExcept(0f) && y.AsSpan(0, n).Contains(0f);
        if (o.LikeWeight > 0 && BothClasses(rows.Like, trainRows)) heads.Add((LikeHead, rows.Like, o.LikeWeight));
        var dwell = rows.DwellSeconds.Select(d => d >= o.DwellThresholdSeconds && d > 0 ? 1f : 0f).ToArray();
        if (o.DwellWeight > 0 && BothClasses(dwell, trainRows)) heads.Add((DwellHead, dwell, o.DwellWeight));
        return heads;
    }

    public static TrainedRanker Train(string name, RankingRows rows, FeatureSchema schema, int[] hidden, RankerTrainingOptions options) =>
        Train(name, rows, schema, hidden, options, new RankerHeadsOptions { Enabled = false });

    public static TrainedRanker Train(string name, RankingRows rows, FeatureSchema schema, int[] hidden, RankerTrainingOptions options, RankerHeadsOptions heads)
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
        // A head with hidden layers shares them with the others (one forward pass serves all heads; the sparse like and
        // dwell labels learn from the click's representation); logistic regression has no trunk to share: click only.
        var chosen = hidden.Length == 0 ? [(DenseNetwork.ClickHead, rows.Click, heads.ClickWeight)] : Heads(rows, heads, cut);
        var lossWeights = Enumerable.Repeat(1f, chosen.Count).ToArray();
        var (network, bestEpoch, epochs, loss) = NetworkTrainer.Train(names, x, [.. chosen.Select(h => h.Labels)], [.. chosen.Select(h => h.Name)], lossWeights, train, validation, hidden, options);
        var scores = new float[chosen.Count][];
        for (var h = 0; h < chosen.Count; h++) scores[h] = new float[validation.Length];
        Span<float> p = stackalloc float[chosen.Count];
        for (var n = 0; n < validation.Length; n++)
        {
            network.PredictHeads(x.AsSpan(validation[n] * names.Length, names.Length), p);
            for (var h = 0; h < chosen.Count; h++) scores[h][n] = p[h];
        }
        var auc = new Dictionary<string, double>(StringComparer.Ordinal);
        for (var h = 0; h < chosen.Count; h++) auc[chosen[h].Name] = Metrics.Auc(scores[h], [.. validation.Select(r => chosen[h].Labels[r])]);
        var clickLabels = validation.Select(r => rows.Click[r]).ToArray();
        return new TrainedRanker(name, network, bestEpoch, epochs, Metrics.LogLoss(scores[0], clickLabels), Metrics.Auc(scores[0], clickLabels), train.Length, validation.Length)
        {
            HeadAuc = auc,
            OutputWeights = chosen.Count == 1 ? [1.0] : [.. chosen.Select(h => h.Weight)],
        };
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
