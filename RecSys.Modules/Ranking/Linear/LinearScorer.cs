using System.Numerics.Tensors;
using RecSys.Features;

namespace RecSys.Ranking.Linear;

/// <summary>
/// TEMPORARY ranker until the ONNX two-stage ranker lands: a logistic score, sigmoid(w . x + b), over the feature row
/// with hand-set weights. The weights encode the obvious priors (similarity to the user's taste, category affinity,
/// click-through rate, social closeness, language); it is a real scorer over real features, not a trained model.
/// </summary>
internal sealed class LinearScorer : IRanker
{
    /// <summary>Weight per feature name; features not named weigh 0.</summary>
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

    public const string Version = "linear-v0";

    private readonly FeatureSchema _schema;
    private readonly float[] _weights;

    public LinearScorer(FeatureSchema schema)
    {
        _schema = schema;
        _weights = schema.Names.Select(n => Weights.TryGetValue(n, out var w) ? w : 0f).ToArray();
    }

    public string ModelVersion => Version;

    public ValueTask ScoreAsync(FeatureMatrix features, Memory<float> scores, CancellationToken cancellationToken)
    {
        if (!ReferenceEquals(features.Schema, _schema) && !features.Schema.Names.SequenceEqual(_schema.Names))
        {
            throw new ArgumentException("Feature rows do not follow the scorer's schema.", nameof(features));
        }
        if (scores.Length < features.Rows) throw new ArgumentException($"Need room for {features.Rows} scores, got {scores.Length}.", nameof(scores));
        var output = scores.Span[..features.Rows];
        for (var row = 0; row < features.Rows; row++)
        {
            output[row] = TensorPrimitives.Dot(features.Row(row), _weights) + Bias;
        }
        TensorPrimitives.Sigmoid(output, output);
        return ValueTask.CompletedTask;
    }
}
