using System.Globalization;

namespace RecSys.Training;

/// <summary>A training run's measurements as flat named numbers, the form the model registry stores.</summary>
public static class RunMetrics
{
    /// <summary>
    /// <c>{method}.{metric}</c> for each evaluated method (<c>als.recall@20</c>, <c>mostpop.ndcg@10</c>),
    /// <c>{ranker}.auc</c> and <c>{ranker}.log_loss</c> for each ranker, <c>{method}.overlap@{k}</c> and
    /// <c>{method}.utility</c> against the demo world's hidden preferences, and <c>seconds.total</c>.
    /// </summary>
    public static IReadOnlyDictionary<string, double> Of(TrainingRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var metrics = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var result in run.Evaluation)
        {
            foreach (var (metric, value) in result.Values) metrics[$"{Key(result.Method)}.{Key(metric)}"] = value;
        }
        foreach (var ranker in run.Rankers)
        {
            metrics[$"{Key(ranker.Name)}.auc"] = ranker.ValidationAuc;
            metrics[$"{Key(ranker.Name)}.log_loss"] = ranker.ValidationLogLoss;
        }
        foreach (var truth in run.GroundTruth)
        {
            metrics[$"{Key(truth.Method)}.overlap@{truth.K.ToString(CultureInfo.InvariantCulture)}"] = truth.OverlapAtK;
            metrics[$"{Key(truth.Method)}.utility"] = truth.NormalizedUtility;
        }
        if (run.Seconds.TryGetValue("total", out var total)) metrics["seconds.total"] = total;
        return metrics;
    }

    private static string Key(string name) => name.Trim().ToLowerInvariant().Replace(' ', '_');
}
