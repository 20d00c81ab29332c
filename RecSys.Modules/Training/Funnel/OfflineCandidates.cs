using System.Numerics.Tensors;
using RecSys.Retrieval;
using RecSys.Training.Baselines;
using RecSys.Training.PointInTime;

namespace RecSys.Training.Funnel;

/// <summary>
/// The serving candidate stage reproduced offline over a training dataset: the exact top <c>annCount</c> items by inner
/// product with the query vector, then up to <c>popularCount</c> popular items (flag added to ANN candidates already in
/// the set, new ones appended), excluded items skipped, every candidate carrying its similarity to the query vector.
/// A user without a query vector gets <c>annCount</c> popular items (the serving cold-start list). The item-to-item,
/// social, trending and fresh sources are not reproduced (offline data has no catalog lists or online trending).
/// One instance per thread: it keeps its buffers.
/// </summary>
internal sealed class OfflineCandidates(float[] itemFactors, int items, int dimensions, int annCount, int popularCount)
{
    private readonly float[] _scores = new float[items];
    private readonly int[] _position = Enumerable.Repeat(-1, items).ToArray();

    public List<int> Items { get; } = new(annCount + popularCount);
    public List<float> AnnScores { get; } = new(annCount + popularCount);
    public List<CandidateSource> Sources { get; } = new(annCount + popularCount);

    public int Count => Items.Count;

    /// <param name="popular">Items by popularity, most first (see <see cref="PopularRefresher"/>).</param>
    public void Generate(ReadOnlySpan<float> query, bool hasQuery, Func<int, bool> excluded, IReadOnlyList<int> popular)
    {
        foreach (var i in Items) _position[i] = -1;
        Items.Clear();
        AnnScores.Clear();
        Sources.Clear();
        if (hasQuery)
        {
            var top = new TopN(Math.Min(annCount, items));
            for (var i = 0; i < items; i++)
            {
                var s = TensorPrimitives.Dot(query, itemFactors.AsSpan(i * dimensions, dimensions));
                _scores[i] = s;
                // The exclusion test (a hash lookup per item during the replay) only for items that would enter the top.
                if (top.Admits(s, i) && !excluded(i)) top.Push(s, i);
            }
            var ids = new int[top.Count];
            var scores = new float[top.Count];
            top.Drain(ids, scores);
            for (var n = 0; n < ids.Length; n++) Add(ids[n], scores[n], CandidateSource.Ann);
        }
        var quota = hasQuery ? popularCount : annCount;
        var taken = 0;
        foreach (var i in popular)
        {
            if (taken == quota) break;
            if (_position[i] >= 0)
            {
                Sources[_position[i]] |= CandidateSource.Popular;
                taken++;
                continue;
            }
            if (excluded(i)) continue;
            Add(i, hasQuery ? _scores[i] : 0f, CandidateSource.Popular);
            taken++;
        }
    }

    /// <summary>The position of an item in the last generated set, or -1.</summary>
    public int PositionOf(int item) => _position[item];

    private void Add(int item, float score, CandidateSource source)
    {
        _position[item] = Items.Count;
        Items.Add(item);
        AnnScores.Add(score);
        Sources.Add(source);
    }
}

/// <summary>
/// The popular list of a replay, recomputed after every <c>step</c> applied events: serving orders its popular source once
/// per catalog version, so a slightly stale list is what it would have used too.
/// </summary>
internal sealed class PopularRefresher(ReplayState state, int length, long step)
{
    private long _appliedAt = long.MinValue;
    private int[] _list = [];

    public IReadOnlyList<int> At(long applied)
    {
        if (_appliedAt == long.MinValue || applied - _appliedAt >= step)
        {
            _list = state.MostPopular(length);
            _appliedAt = applied;
        }
        return _list;
    }
}
