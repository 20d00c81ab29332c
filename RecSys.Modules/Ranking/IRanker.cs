using RecSys.Features;

namespace RecSys.Ranking;

/// <summary>A row-major block of feature rows, one row per candidate, columns in <see cref="Schema"/> order.</summary>
public readonly struct FeatureMatrix
{
    public FeatureMatrix(ReadOnlyMemory<float> data, int rows, FeatureSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        if (data.Length < rows * schema.Count)
        {
            throw new ArgumentException($"{rows} rows of {schema.Count} features need {rows * schema.Count} floats, got {data.Length}.", nameof(data));
        }
        Data = data;
        Rows = rows;
        Schema = schema;
    }

    public ReadOnlyMemory<float> Data { get; }
    public int Rows { get; }
    public FeatureSchema Schema { get; }
    public int Columns => Schema.Count;

    public ReadOnlySpan<float> Row(int row) => Data.Span.Slice(row * Columns, Columns);
}

/// <summary>
/// A request's choices for the ranking stage. The default (no version, no destination) scores with the served
/// version and computes nothing beyond the final score.
/// </summary>
public readonly struct ScoringOptions
{
    /// <summary>A model version loaded beside the served one (an experiment variant's); null: the served version.</summary>
    public string? ModelVersion { get; init; }

    /// <summary>
    /// When not empty (one float per row), receives each row's pre-ranker score (NaN when the version has no
    /// pre-ranker). Only asked for by explanations: the pre-ranker is then run even when every row is kept.
    /// </summary>
    public Memory<float> PreRankerScores { get; init; }

    /// <summary>
    /// When not empty (one float per row), receives each row's main-ranker score, NaN for rows the pre-ranker dropped
    /// (the main ranker never saw them; their final score only orders them below the kept ones). Only asked for by
    /// explanations.
    /// </summary>
    public Memory<float> RankerScores { get; init; }
}

/// <summary>Stage 4 of the funnel: one score per feature row, higher is better.</summary>
public interface IRanker
{
    /// <summary>The model version reported in responses.</summary>
    string ModelVersion { get; }

    /// <summary>The schema the loaded model expects rows in; null when any schema will do.</summary>
    FeatureSchema? Schema => null;

    /// <summary>The schema of <paramref name="modelVersion"/> (null: the served version).</summary>
    FeatureSchema? SchemaOf(string? modelVersion) => Schema;

    ValueTask ScoreAsync(FeatureMatrix features, Memory<float> scores, CancellationToken cancellationToken);

    /// <summary>Scores with the version <paramref name="options"/> names; returns the version that actually scored the rows.</summary>
    async ValueTask<string> ScoreAsync(FeatureMatrix features, Memory<float> scores, ScoringOptions options, CancellationToken cancellationToken)
    {
        var version = ModelVersion;
        await ScoreAsync(features, scores, cancellationToken).ConfigureAwait(false);
        options.PreRankerScores.Span.Fill(float.NaN);
        if (!options.RankerScores.IsEmpty) scores.Span[..features.Rows].CopyTo(options.RankerScores.Span);
        return version;
    }
}
