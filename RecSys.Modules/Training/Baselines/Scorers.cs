using System.Numerics.Tensors;

namespace RecSys.Training.Baselines;

internal sealed class AlsScorer(AlsModel model) : IItemScorer
{
    public string Name => $"ALS ({model.Factors} factors)";

    public int ItemCount => model.Items;

    public void Score(int user, Span<float> scores)
    {
        var x = model.UserVector(user);
        var k = model.Factors;
        var y = model.ItemFactors.AsSpan();
        for (var i = 0; i < model.Items; i++) scores[i] = TensorPrimitives.Dot(x, y.Slice(i * k, k));
    }
}

internal sealed class MostPopular : IItemScorer
{
    private readonly float[] _counts;

    public MostPopular(InteractionMatrix train)
    {
        _counts = new float[train.Columns];
        for (var u = 0; u < train.Rows; u++)
        {
            foreach (var i in train.RowIndices(u)) _counts[i]++;
        }
    }

    public string Name => "MostPop";

    public int ItemCount => _counts.Length;

    public void Score(int user, Span<float> scores) => _counts.CopyTo(scores);
}

/// <summary>
/// Item-based kNN (Sarwar et al. 2001): cosine similarity of items' binary user columns, the top neighbours kept per
/// item; a user's score for i is the sum of similarities between i and the user's training items that have i as a neighbour.
/// </summary>
internal sealed class ItemKnn : IItemScorer
{
    private readonly InteractionMatrix _train;
    private readonly int[][] _neighbours;
    private readonly float[][] _similarities;

    public ItemKnn(InteractionMatrix train, int neighbours, int maxThreads)
    {
        _train = train;
        var byItem = train.Transpose();
        var items = train.Columns;
        _neighbours = new int[items][];
        _similarities = new float[items][];
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxThreads > 0 ? maxThreads : -1 };
        Parallel.For(0, items, options, () => (Counts: new float[items], Touched: new List<int>()), (i, _, scratch) =>
        {
            var (counts, touched) = scratch;
            foreach (var u in byItem.RowIndices(i))
            {
                foreach (var j in train.RowIndices(u))
                {
                    if (j == i) continue;
                    if (counts[j] == 0) touched.Add(j);
                    counts[j]++;
                }
            }
            var ni = byItem.RowCount(i);
            var top = new TopN(Math.Min(neighbours, touched.Count));
            foreach (var j in touched)
            {
                top.Push(counts[j] / MathF.Sqrt(ni * (float)byItem.RowCount(j)), j);
                counts[j] = 0;
            }
            touched.Clear();
            var n = top.Count;
            var ids = new int[n];
            var sims = new float[n];
            top.Drain(ids, sims);
            _neighbours[i] = ids;
            _similarities[i] = sims;
            return scratch;
        }, _ => { });
    }

    public string Name => "ItemKNN (cosine)";

    public int ItemCount => _neighbours.Length;

    public void Score(int user, Span<float> scores)
    {
        scores.Clear();
        foreach (var j in _train.RowIndices(user))
        {
            var ids = _neighbours[j];
            var sims = _similarities[j];
            for (var n = 0; n < ids.Length; n++) scores[ids[n]] += sims[n];
        }
    }
}

/// <summary>Keeps the n highest (score, id) pairs; ties prefer the lower id so results do not depend on input order.</summary>
internal sealed class TopN
{
    private readonly float[] _scores;
    private readonly int[] _ids;

    public TopN(int capacity)
    {
        _scores = new float[capacity];
        _ids = new int[capacity];
    }

    public int Count { get; private set; }

    // Min-heap on (score, -id): the root is the worst kept pair.
    private bool Worse(float s1, int id1, float s2, int id2) => s1 < s2 || (s1 == s2 && id1 > id2);

    /// <summary>Whether <see cref="Push"/> would keep this pair now: lets a caller skip costlier checks for pairs that cannot enter.</summary>
    public bool Admits(float score, int id) =>
        _scores.Length > 0 && !float.IsNaN(score) && (Count < _scores.Length || Worse(_scores[0], _ids[0], score, id));

    public void Push(float score, int id)
    {
        if (_scores.Length == 0 || float.IsNaN(score)) return;
        if (Count < _scores.Length)
        {
            var i = Count++;
            while (i > 0)
            {
                var parent = (i - 1) / 2;
                if (!Worse(score, id, _scores[parent], _ids[parent])) break;
                _scores[i] = _scores[parent];
                _ids[i] = _ids[parent];
                i = parent;
            }
            _scores[i] = score;
            _ids[i] = id;
        }
        else if (Worse(_scores[0], _ids[0], score, id))
        {
            SiftDown(score, id, Count);
        }
    }

    /// <summary>Writes the kept pairs best first and empties the heap.</summary>
    public void Drain(Span<int> ids, Span<float> scores)
    {
        var n = Count;
        for (var end = n - 1; end >= 0; end--)
        {
            ids[end] = _ids[0];
            scores[end] = _scores[0];
            var lastScore = _scores[end];
            var lastId = _ids[end];
            Count = end;
            if (end > 0) SiftDown(lastScore, lastId, end);
        }
        Count = 0;
    }

    private void SiftDown(float score, int id, int size)
    {
        var i = 0;
        while (true)
        {
            var child = (2 * i) + 1;
            if (child >= size) break;
            if (child + 1 < size && Worse(_scores[child + 1], _ids[child + 1], _scores[child], _ids[child])) child++;
            if (!Worse(_scores[child], _ids[child], score, id)) break;
            _scores[i] = _scores[child];
            _ids[i] = _ids[child];
            i = child;
        }
        _scores[i] = score;
        _ids[i] = id;
    }
}
