using MathNet.Numerics.LinearAlgebra;

namespace RecSys.Training;

/// <summary>
/// The cold-start item tower: a ridge regression from an item's content (category, author, language, region, tags)
/// to its collaborative vector, fitted on items with enough interactions and used for items with too few, so a new
/// item is retrievable on its first day. Features are binary indicators over a vocabulary taken from the fitted items
/// (values seen on at least two of them), plus a bias.
/// </summary>
public sealed class ItemContentTower
{
    private readonly Dictionary<string, int> _vocabulary;
    private readonly double[] _weights; // features x dims, row-major

    private ItemContentTower(Dictionary<string, int> vocabulary, double[] weights, int dimensions)
    {
        _vocabulary = vocabulary;
        _weights = weights;
        Dimensions = dimensions;
    }

    public int Dimensions { get; }

    /// <summary>Number of content features, bias included.</summary>
    public int FeatureCount => _vocabulary.Count + 1;

    /// <summary>The indicator names of an item's content, as the tower sees them (<c>category=news</c>, <c>tag=guide</c>).</summary>
    public static IEnumerable<string> Tokens(ItemMetadata item)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (item.Category is { } c) yield return "category=" + c.ToLowerInvariant();
        if (item.Author is { } a) yield return "author=" + a;
        if (item.Language is { } l) yield return "language=" + l.ToLowerInvariant();
        if (item.Region is { } r) yield return "region=" + r.ToLowerInvariant();
        foreach (var t in item.Tags.Distinct(StringComparer.OrdinalIgnoreCase)) yield return "tag=" + t.ToLowerInvariant();
    }

    /// <summary>
    /// Fits the tower on <paramref name="trainItems"/>: their content against their rows of <paramref name="itemVectors"/>
    /// (items x <paramref name="dimensions"/>). <paramref name="maxFeatures"/> caps the vocabulary (most frequent first).
    /// </summary>
    public static ItemContentTower Fit(IReadOnlyList<ItemMetadata> items, float[] itemVectors, int dimensions, IReadOnlyList<int> trainItems,
        double lambda = 1.0, int maxFeatures = 4000)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(itemVectors);
        ArgumentNullException.ThrowIfNull(trainItems);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var i in trainItems)
        {
            foreach (var token in Tokens(items[i])) counts[token] = counts.GetValueOrDefault(token) + 1;
        }
        var vocabulary = counts.Where(kv => kv.Value >= 2).OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Take(maxFeatures - 1).Select((kv, n) => (kv.Key, n)).ToDictionary(x => x.Key, x => x.n, StringComparer.Ordinal);
        var f = vocabulary.Count + 1;
        var bias = vocabulary.Count;

        // Normal equations (XᵀX + λI) W = XᵀY over sparse binary rows; the bias is not penalised.
        var xtx = new double[f * f];
        var xty = new double[f * dimensions];
        var active = new List<int>();
        foreach (var i in trainItems)
        {
            active.Clear();
            foreach (var token in Tokens(items[i])) if (vocabulary.TryGetValue(token, out var column)) active.Add(column);
            active.Add(bias);
            var y = itemVectors.AsSpan(i * dimensions, dimensions);
            foreach (var p in active)
            {
                foreach (var q in active) xtx[(p * f) + q] += 1;
                for (var d = 0; d < dimensions; d++) xty[(p * dimensions) + d] += y[d];
            }
        }
        for (var p = 0; p < bias; p++) xtx[(p * f) + p] += lambda;
        xtx[(bias * f) + bias] += 1e-6;
        var a = Matrix<double>.Build.DenseOfRowMajor(f, f, xtx);
        var b = Matrix<double>.Build.DenseOfRowMajor(f, dimensions, xty);
        var w = a.Cholesky().Solve(b);
        var weights = new double[f * dimensions];
        for (var p = 0; p < f; p++)
        {
            for (var d = 0; d < dimensions; d++) weights[(p * dimensions) + d] = w[p, d];
        }
        return new ItemContentTower(vocabulary, weights, dimensions);
    }

    /// <summary>Writes the predicted vector of an item from its content; false when none of its content is known to the tower (only the bias).</summary>
    public bool Predict(ItemMetadata item, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (destination.Length != Dimensions) throw new ArgumentException($"Destination has {destination.Length} floats, the tower {Dimensions}.", nameof(destination));
        var bias = _vocabulary.Count;
        for (var d = 0; d < Dimensions; d++) destination[d] = (float)_weights[(bias * Dimensions) + d];
        var known = false;
        foreach (var token in Tokens(item))
        {
            if (!_vocabulary.TryGetValue(token, out var p)) continue;
            known = true;
            for (var d = 0; d < Dimensions; d++) destination[d] += (float)_weights[(p * Dimensions) + d];
        }
        return known;
    }

    /// <summary>
    /// Fits on items with at least <paramref name="minInteractions"/> training pairs and replaces the vectors of the
    /// others (whose content the tower knows). Returns how many item vectors were replaced, or -1 when there is no content.
    /// </summary>
    public static int FillColdItems(InteractionDataset dataset, InteractionMatrix train, float[] itemVectors, int dimensions, int minInteractions, double lambda, out ItemContentTower? tower)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(itemVectors);
        tower = null;
        if (!dataset.HasItemContent) return -1;
        var counts = new int[dataset.ItemCount];
        for (var u = 0; u < train.Rows; u++) foreach (var i in train.RowIndices(u)) counts[i]++;
        var warm = Enumerable.Range(0, dataset.ItemCount).Where(i => counts[i] >= minInteractions).ToList();
        if (warm.Count < 10) return -1;
        tower = Fit(dataset.Items, itemVectors, dimensions, warm, lambda);
        var replaced = 0;
        var predicted = new float[dimensions];
        for (var i = 0; i < dataset.ItemCount; i++)
        {
            if (counts[i] >= minInteractions) continue;
            // An item whose content the tower does not know keeps whatever its few interactions gave it.
            if (!tower.Predict(dataset.Items[i], predicted)) continue;
            predicted.CopyTo(itemVectors.AsSpan(i * dimensions, dimensions));
            replaced++;
        }
        return replaced;
    }
}
