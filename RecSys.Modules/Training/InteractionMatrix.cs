using RecSys.Events;

namespace RecSys.Training;

/// <summary>How much each event type says about wanting an item; the sum over a (user, item) pair is the r of the ALS confidence.</summary>
public sealed record FeedbackWeights(float Click = 1f, float Like = 1f, float Share = 1f, float Dwell = 0.5f, float View = 0.25f)
{
    public static FeedbackWeights Default { get; } = new();

    /// <summary>The weight of one event; 0 for impressions. Hides are handled separately: they remove the pair.</summary>
    public float Of(EventType type) => type switch
    {
        EventType.Click => Click,
        EventType.Like => Like,
        EventType.Share => Share,
        EventType.Dwell => Dwell,
        EventType.View => View,
        _ => 0f,
    };
}

/// <summary>A sparse user x item matrix of positive feedback strengths in compressed rows (one row per user, columns sorted).</summary>
public sealed class InteractionMatrix
{
    private readonly int[] _rowStart;
    private readonly int[] _columns;
    private readonly float[] _values;

    private InteractionMatrix(int rows, int columns, int[] rowStart, int[] columnIndices, float[] values)
    {
        Rows = rows;
        Columns = columns;
        _rowStart = rowStart;
        _columns = columnIndices;
        _values = values;
    }

    public int Rows { get; }
    public int Columns { get; }
    public int NonZeros => _columns.Length;

    public ReadOnlySpan<int> RowIndices(int row) => _columns.AsSpan(_rowStart[row], _rowStart[row + 1] - _rowStart[row]);

    public ReadOnlySpan<float> RowValues(int row) => _values.AsSpan(_rowStart[row], _rowStart[row + 1] - _rowStart[row]);

    public int RowCount(int row) => _rowStart[row + 1] - _rowStart[row];

    /// <summary>Builds the matrix from (row, column, value) entries; repeated cells are summed.</summary>
    public static InteractionMatrix FromEntries(int rows, int columns, IReadOnlyList<(int Row, int Column, float Value)> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var counts = new int[rows + 1];
        foreach (var (r, c, _) in entries)
        {
            if ((uint)r >= (uint)rows || (uint)c >= (uint)columns) throw new ArgumentException($"Entry ({r}, {c}) is outside {rows} x {columns}.", nameof(entries));
            counts[r + 1]++;
        }
        for (var r = 0; r < rows; r++) counts[r + 1] += counts[r];
        var cols = new int[entries.Count];
        var vals = new float[entries.Count];
        var fill = (int[])counts.Clone();
        foreach (var (r, c, v) in entries)
        {
            cols[fill[r]] = c;
            vals[fill[r]] = v;
            fill[r]++;
        }
        // Sort each row by column and merge duplicates.
        var start = new int[rows + 1];
        var write = 0;
        for (var r = 0; r < rows; r++)
        {
            var from = counts[r];
            var to = counts[r + 1];
            Array.Sort(cols, vals, from, to - from);
            start[r] = write;
            for (var k = from; k < to; k++)
            {
                if (write > start[r] && cols[write - 1] == cols[k]) vals[write - 1] += vals[k];
                else
                {
                    cols[write] = cols[k];
                    vals[write] = vals[k];
                    write++;
                }
            }
        }
        start[rows] = write;
        return new InteractionMatrix(rows, columns, start, cols[..write], vals[..write]);
    }

    /// <summary>The same entries with rows and columns swapped (item x user).</summary>
    public InteractionMatrix Transpose()
    {
        var entries = new List<(int, int, float)>(NonZeros);
        for (var r = 0; r < Rows; r++)
        {
            var cols = RowIndices(r);
            var vals = RowValues(r);
            for (var k = 0; k < cols.Length; k++) entries.Add((cols[k], r, vals[k]));
        }
        return FromEntries(Columns, Rows, entries);
    }
}
