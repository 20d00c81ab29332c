namespace RecSys.Training;

/// <summary>
/// Offline metrics, computed here rather than taken from a library so the definitions are ours and tested:
/// ranking metrics over one user's ranked list against that user's held-out items, classification metrics over
/// scored, labelled rows. Per-user values are averaged over users by the evaluator.
/// </summary>
public static class Metrics
{
    /// <summary>Hits in the top <paramref name="k"/> divided by the number of relevant items (0 when there are none).</summary>
    public static double RecallAtK(ReadOnlySpan<int> ranked, IReadOnlySet<int> relevant, int k)
    {
        ArgumentNullException.ThrowIfNull(relevant);
        if (relevant.Count == 0) return 0;
        return Hits(ranked, relevant, k) / (double)relevant.Count;
    }

    /// <summary>1 when at least one relevant item is in the top <paramref name="k"/>, else 0.</summary>
    public static double HitRateAtK(ReadOnlySpan<int> ranked, IReadOnlySet<int> relevant, int k) => Hits(ranked, relevant, k) > 0 ? 1 : 0;

    /// <summary>Precision: hits in the top <paramref name="k"/> divided by k.</summary>
    public static double PrecisionAtK(ReadOnlySpan<int> ranked, IReadOnlySet<int> relevant, int k) => k <= 0 ? 0 : Hits(ranked, relevant, k) / (double)k;

    /// <summary>
    /// Binary-relevance NDCG: DCG = sum over relevant positions p (1-based) in the top k of 1 / log2(p + 1), divided by
    /// the DCG of an ideal list that puts min(k, |relevant|) relevant items first.
    /// </summary>
    public static double NdcgAtK(ReadOnlySpan<int> ranked, IReadOnlySet<int> relevant, int k)
    {
        ArgumentNullException.ThrowIfNull(relevant);
        if (relevant.Count == 0 || k <= 0) return 0;
        var dcg = 0.0;
        var n = Math.Min(k, ranked.Length);
        for (var p = 0; p < n; p++)
        {
            if (relevant.Contains(ranked[p])) dcg += 1 / Math.Log2(p + 2);
        }
        var ideal = 0.0;
        for (var p = 0; p < Math.Min(k, relevant.Count); p++) ideal += 1 / Math.Log2(p + 2);
        return dcg / ideal;
    }

    /// <summary>Catalog coverage: distinct items appearing in the top <paramref name="k"/> of any list, divided by the catalog size.</summary>
    public static double CoverageAtK(IEnumerable<int[]> rankedLists, int k, int itemCount)
    {
        ArgumentNullException.ThrowIfNull(rankedLists);
        ArgumentOutOfRangeException.ThrowIfLessThan(itemCount, 1);
        var seen = new HashSet<int>();
        foreach (var list in rankedLists)
        {
            for (var p = 0; p < Math.Min(k, list.Length); p++) seen.Add(list[p]);
        }
        return seen.Count / (double)itemCount;
    }

    /// <summary>
    /// Area under the ROC curve: the probability that a random positive scores above a random negative, ties counting
    /// one half (computed from average ranks, O(n log n)). NaN when either class is absent.
    /// </summary>
    public static double Auc(ReadOnlySpan<float> scores, ReadOnlySpan<float> labels)
    {
        if (scores.Length != labels.Length) throw new ArgumentException($"{scores.Length} scores for {labels.Length} labels.", nameof(labels));
        var n = scores.Length;
        var order = new int[n];
        var keys = scores.ToArray();
        for (var i = 0; i < n; i++) order[i] = i;
        Array.Sort(keys, order);
        double positives = 0, rankSum = 0;
        var start = 0;
        while (start < n)
        {
            var end = start;
            while (end + 1 < n && keys[end + 1] == keys[start]) end++;
            var averageRank = ((start + end) / 2.0) + 1; // 1-based average rank of the tie group
            for (var j = start; j <= end; j++)
            {
                if (labels[order[j]] > 0.5f)
                {
                    positives++;
                    rankSum += averageRank;
                }
            }
            start = end + 1;
        }
        var negatives = n - positives;
        if (positives == 0 || negatives == 0) return double.NaN;
        return (rankSum - (positives * (positives + 1) / 2)) / (positives * negatives);
    }

    /// <summary>Mean binary cross-entropy of probabilities against 0/1 labels, probabilities clipped to [1e-7, 1 - 1e-7].</summary>
    public static double LogLoss(ReadOnlySpan<float> probabilities, ReadOnlySpan<float> labels)
    {
        if (probabilities.Length != labels.Length) throw new ArgumentException($"{probabilities.Length} probabilities for {labels.Length} labels.", nameof(labels));
        if (probabilities.Length == 0) return double.NaN;
        const double eps = 1e-7;
        var sum = 0.0;
        for (var i = 0; i < probabilities.Length; i++)
        {
            var p = Math.Clamp(probabilities[i], eps, 1 - eps);
            sum -= labels[i] > 0.5f ? Math.Log(p) : Math.Log(1 - p);
        }
        return sum / probabilities.Length;
    }

    private static int Hits(ReadOnlySpan<int> ranked, IReadOnlySet<int> relevant, int k)
    {
        ArgumentNullException.ThrowIfNull(relevant);
        var hits = 0;
        var n = Math.Min(k, ranked.Length);
        for (var p = 0; p < n; p++)
        {
            if (relevant.Contains(ranked[p])) hits++;
        }
        return hits;
    }
}
