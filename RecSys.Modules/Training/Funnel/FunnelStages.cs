using RecSys.Ranking;

namespace RecSys.Training.Funnel;

/// <summary>
/// Stage 4 as the serving two-stage ranker runs it, on the trainer's networks: the pre-ranker scores every candidate,
/// the best <c>keep</c> are ordered by the ranker, the rest follow in pre-ranker order. One instance per thread.
/// The ranker's score is its heads combined by <c>rankerWeights</c> (null: the click head), as serving combines them.
/// </summary>
internal sealed class FunnelStages(DenseNetwork pre, DenseNetwork ranker, IReadOnlyList<string> schema, int keep, IReadOnlyList<double>? rankerWeights = null)
{
    private readonly FoldedNetwork _pre = new(pre, schema);
    private readonly FoldedNetwork _ranker = new(ranker, schema, rankerWeights);
    private float[] _keys = [];
    private int[] _preOrder = [];
    private float[] _keptScores = [];
    private int[] _keptOrder = [];

    public int Width { get; } = schema.Count;

    /// <summary>
    /// Fills <paramref name="order"/> (length n) with candidate positions, final order. <paramref name="preScores"/> gets
    /// every candidate's pre-ranker score; <paramref name="rankerScores"/> the ranker's score of every candidate when
    /// <paramref name="rankAll"/> (for its AUC over the same rows), else of the kept ones only (NaN for the others).
    /// </summary>
    public void Order(ReadOnlySpan<float> rows, int n, Span<float> preScores, Span<float> rankerScores, Span<int> order, bool rankAll = false)
    {
        if (_keys.Length < n)
        {
            _keys = new float[n];
            _preOrder = new int[n];
            _keptScores = new float[n];
            _keptOrder = new int[n];
        }
        _pre.Score(rows, n, preScores);
        ScoreOrder.Descending(preScores[..n], _keys.AsSpan(0, n), _preOrder.AsSpan(0, n));
        var kept = Math.Min(keep, n);
        if (rankAll) _ranker.Score(rows, n, rankerScores);
        else rankerScores[..n].Fill(float.NaN);
        for (var j = 0; j < kept; j++)
        {
            var c = _preOrder[j];
            if (!rankAll) _ranker.Score(rows.Slice(c * Width, Width), 1, rankerScores.Slice(c, 1));
            _keptScores[j] = rankerScores[c];
        }
        ScoreOrder.Descending(_keptScores.AsSpan(0, kept), _keys.AsSpan(0, kept), _keptOrder.AsSpan(0, kept));
        for (var j = 0; j < kept; j++) order[j] = _preOrder[_keptOrder[j]];
        for (var j = kept; j < n; j++) order[j] = _preOrder[j];
    }
}
