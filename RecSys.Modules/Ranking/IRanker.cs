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

/// <summary>Stage 4 of the funnel: one score per feature row, higher is better.</summary>
public interface IRanker
{
    /// <summary>The model version reported in responses.</summary>
    string ModelVersion { get; }

    /// <summary>The schema the loaded model expects rows in; null when any schema will do.</summary>
    FeatureSchema? Schema => null;

    ValueTask ScoreAsync(FeatureMatrix features, Memory<float> scores, CancellationToken cancellationToken);
}
