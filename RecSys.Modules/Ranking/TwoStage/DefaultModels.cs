using RecSys.Features;
using RecSys.Ranking.Onnx;

namespace RecSys.Ranking.TwoStage;

/// <summary>
/// TEMPORARY until the trainer (issue 5) writes real models: when the models folder names no version, the service
/// writes, with our ONNX writer, a logistic-regression pre-ranker and ranker whose hand-set weights are the
/// foundation's linear scorer's (sigmoid(w . x + b) over the default schema), so that the ONNX path (binding, batcher,
/// two stages) serves by default and the ranking is unchanged. The weights encode the obvious priors: similarity to the
/// user's taste, category affinity, click-through rate, social closeness, language.
/// </summary>
internal static class DefaultModels
{
    public const string Version = "linear-v0";

    internal static readonly IReadOnlyDictionary<string, float> Weights = new Dictionary<string, float>
    {
        ["ann_similarity"] = 4.0f,
        ["user_category_affinity"] = 1.5f,
        ["item_ctr"] = 6.0f,
        ["item_like_rate"] = 1.0f,
        ["item_engagement_score"] = 0.8f,
        ["item_popularity"] = 0.5f,
        ["is_hot_item"] = 0.3f,
        ["item_freshness_hours"] = -0.15f,
        ["language_match"] = 0.6f,
        ["region_match"] = 0.2f,
        ["friend_post"] = 0.8f,
        ["follows_author"] = 0.6f,
        ["same_group"] = 0.3f,
    };

    internal const float Bias = -3f;

    public static FeatureSchema Schema => FeatureSchema.Default;

    public static float[] WeightVector() => Schema.Names.Select(n => Weights.TryGetValue(n, out var w) ? w : 0f).ToArray();

    /// <summary>The pre-ranker: output <c>score</c>.</summary>
    public static byte[] PreRanker() => OnnxWriter.Write(RankerNetwork.Logistic(WeightVector(), Bias, "score"), "RecSys default");

    /// <summary>The ranker: output <c>p_click</c>, weight 1.</summary>
    public static byte[] Ranker() => OnnxWriter.Write(RankerNetwork.Logistic(WeightVector(), Bias, "p_click"), "RecSys default");

    public static ModelManifest Manifest => new(Version, Schema.Names.ToList(), new PreRankerManifest("(built-in) pre-ranker", "score"),
        new RankerManifest("(built-in) ranker", new Dictionary<string, double> { ["p_click"] = 1.0 }));
}
