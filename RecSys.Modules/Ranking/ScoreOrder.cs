namespace RecSys.Ranking;

/// <summary>The one way candidates are ordered by score, shared by the two-stage ranker and the pipeline.</summary>
public static class ScoreOrder
{
    /// <summary>
    /// Fills <paramref name="order"/> with positions 0..n-1 ordered best score first: NaN scores last, equal scores in
    /// position (retrieval) order. <paramref name="keys"/> (length n) receives the negated scores in that order.
    /// No allocation: the sort is unstable, so ties are put back in position order afterwards.
    /// </summary>
    public static void Descending(ReadOnlySpan<float> scores, Span<float> keys, Span<int> order)
    {
        if (keys.Length != scores.Length || order.Length != scores.Length)
        {
            throw new ArgumentException($"scores, keys and order must have the same length ({scores.Length}, {keys.Length}, {order.Length}).");
        }
        for (var i = 0; i < scores.Length; i++)
        {
            keys[i] = float.IsNaN(scores[i]) ? float.PositiveInfinity : -scores[i];
            order[i] = i;
        }
        keys.Sort(order);
        var start = 0;
        for (var i = 1; i <= keys.Length; i++)
        {
            if (i == keys.Length || keys[i] != keys[start])
            {
                order[start..i].Sort();
                start = i;
            }
        }
    }
}
