using System.Diagnostics;
using System.Globalization;
using System.Text;
using RecSys.Training.Baselines;

namespace RecSys.Training;

/// <summary>One method's averaged metrics on a split; <see cref="Values"/> keys are like <c>recall@20</c>, <c>ndcg@10</c>.</summary>
public sealed record EvaluationResult(string Method, int Users, IReadOnlyDictionary<string, double> Values, double FitSeconds, double EvaluateSeconds)
{
    public double this[string metric] => Values.TryGetValue(metric, out var v) ? v : double.NaN;
}

/// <summary>
/// Ranks every item for each evaluated user (their training items excluded) and averages Recall@K, NDCG@K and
/// HitRate@K over users; coverage@K is over the union of the users' top K. The columns of the report table are
/// <see cref="StandardMetrics"/>.
/// </summary>
public static class Evaluation
{
    public static IReadOnlyList<string> StandardMetrics { get; } = ["recall@10", "recall@20", "ndcg@10", "hr@10", "coverage@10"];

    /// <summary>
    /// The users the evaluator scores: those with held-out items and at least one training item; when more than
    /// <paramref name="maxUsers"/> (0: no cap), a seeded sample of them.
    /// </summary>
    public static int[] EvaluatedUsers(DataSplit split, int maxUsers, int seed)
    {
        ArgumentNullException.ThrowIfNull(split);
        var users = Enumerable.Range(0, split.TestItems.Length).Where(u => split.TestItems[u].Length > 0 && split.Train.RowCount(u) > 0).ToArray();
        if (maxUsers <= 0 || users.Length <= maxUsers) return users;
        var rng = new Random(seed);
        rng.Shuffle(users);
        var sample = users[..maxUsers];
        Array.Sort(sample);
        return sample;
    }

    public static EvaluationResult Evaluate(IItemScorer scorer, DataSplit split, int[] users, double fitSeconds = 0, IReadOnlyList<int>? recallAt = null, int maxThreads = 0)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        ArgumentNullException.ThrowIfNull(split);
        ArgumentNullException.ThrowIfNull(users);
        var watch = Stopwatch.StartNew();
        var recallKs = (recallAt ?? [10, 20]).Union([10, 20]).Order().ToArray();
        var depth = Math.Min(recallKs[^1], scorer.ItemCount);
        var lists = new int[users.Length][];
        var perUser = new double[users.Length][];
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxThreads > 0 ? maxThreads : -1 };
        Parallel.For(0, users.Length, options, () => new float[scorer.ItemCount], (n, _, scores) =>
        {
            var u = users[n];
            scorer.Score(u, scores);
            foreach (var i in split.Train.RowIndices(u)) scores[i] = float.NegativeInfinity;
            var top = new TopN(depth);
            for (var i = 0; i < scores.Length; i++)
            {
                if (!float.IsNegativeInfinity(scores[i])) top.Push(scores[i], i);
            }
            var ranked = new int[top.Count];
            top.Drain(ranked, new float[ranked.Length]);
            var relevant = new HashSet<int>(split.TestItems[u]);
            var values = new double[recallKs.Length + 2];
            for (var r = 0; r < recallKs.Length; r++) values[r] = Metrics.RecallAtK(ranked, relevant, recallKs[r]);
            values[recallKs.Length] = Metrics.NdcgAtK(ranked, relevant, 10);
            values[recallKs.Length + 1] = Metrics.HitRateAtK(ranked, relevant, 10);
            perUser[n] = values;
            lists[n] = ranked.Length > 10 ? ranked[..10] : ranked;
            return scores;
        }, _ => { });

        var result = new Dictionary<string, double>();
        double Mean(int column) => users.Length == 0 ? double.NaN : perUser.Sum(v => v[column]) / users.Length;
        for (var r = 0; r < recallKs.Length; r++) result[$"recall@{recallKs[r]}"] = Mean(r);
        result["ndcg@10"] = Mean(recallKs.Length);
        result["hr@10"] = Mean(recallKs.Length + 1);
        result["coverage@10"] = Metrics.CoverageAtK(lists, 10, scorer.ItemCount);
        return new EvaluationResult(scorer.Name, users.Length, result, fitSeconds, watch.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// The same metrics for ranked lists produced elsewhere (the funnel): <paramref name="lists"/>[n] is user
    /// <paramref name="users"/>[n]'s list, best first, known items already excluded.
    /// </summary>
    public static EvaluationResult FromLists(string method, DataSplit split, int[] users, int[][] lists, int itemCount, double fitSeconds, double evaluateSeconds, IReadOnlyList<int>? recallAt = null)
    {
        ArgumentNullException.ThrowIfNull(split);
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(lists);
        if (lists.Length != users.Length) throw new ArgumentException($"{lists.Length} lists for {users.Length} users.", nameof(lists));
        var recallKs = (recallAt ?? [10, 20]).Union([10, 20]).Order().ToArray();
        var sums = new double[recallKs.Length + 2];
        for (var n = 0; n < users.Length; n++)
        {
            var relevant = new HashSet<int>(split.TestItems[users[n]]);
            for (var r = 0; r < recallKs.Length; r++) sums[r] += Metrics.RecallAtK(lists[n], relevant, recallKs[r]);
            sums[recallKs.Length] += Metrics.NdcgAtK(lists[n], relevant, 10);
            sums[recallKs.Length + 1] += Metrics.HitRateAtK(lists[n], relevant, 10);
        }
        var result = new Dictionary<string, double>();
        double Mean(int column) => users.Length == 0 ? double.NaN : sums[column] / users.Length;
        for (var r = 0; r < recallKs.Length; r++) result[$"recall@{recallKs[r]}"] = Mean(r);
        result["ndcg@10"] = Mean(recallKs.Length);
        result["hr@10"] = Mean(recallKs.Length + 1);
        result["coverage@10"] = Metrics.CoverageAtK(lists.Select(l => l.Length > 10 ? l[..10] : l), 10, itemCount);
        return new EvaluationResult(method, users.Length, result, fitSeconds, evaluateSeconds);
    }

    /// <summary>A Markdown table of the results, one row per method, with the standard metric columns (and any extra recall columns).</summary>
    public static string Table(IReadOnlyList<EvaluationResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var columns = StandardMetrics.Concat(results.SelectMany(r => r.Values.Keys).Where(k => !StandardMetrics.Contains(k)).Distinct().Order(StringComparer.Ordinal)).ToList();
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append("| method | ").AppendJoin(" | ", columns).AppendLine(" | fit s | eval s |");
        sb.Append("|---|").Append(string.Concat(Enumerable.Repeat("---|", columns.Count))).AppendLine("---|---|");
        foreach (var r in results)
        {
            sb.Append("| ").Append(r.Method).Append(" | ")
              .AppendJoin(" | ", columns.Select(c => r.Values.TryGetValue(c, out var v) ? v.ToString("0.000", inv) : "-"))
              .Append(" | ").Append(r.FitSeconds.ToString("0.0", inv)).Append(" | ").Append(r.EvaluateSeconds.ToString("0.0", inv)).AppendLine(" |");
        }
        return sb.ToString();
    }
}
