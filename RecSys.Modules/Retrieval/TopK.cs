namespace RecSys.Retrieval;

/// <summary>
/// A bounded min-heap that keeps the k best (score, id) pairs over caller-provided spans: no allocation, O(log k) per
/// accepted insert, and a cheap <see cref="Threshold"/> test that rejects most items of a scan before any other work.
/// </summary>
internal ref struct TopK
{
    private readonly Span<float> _scores;
    private readonly Span<int> _ids;
    private int _count;

    public TopK(Span<float> scores, Span<int> ids)
    {
        if (scores.Length != ids.Length) throw new ArgumentException("Score and id buffers must have the same length.");
        _scores = scores;
        _ids = ids;
        _count = 0;
    }

    public readonly int Count => _count;

    public readonly int Capacity => _scores.Length;

    /// <summary>The score an item must beat to enter; -infinity until the heap is full.</summary>
    public readonly float Threshold => _count < _scores.Length ? float.NegativeInfinity : _scores[0];

    public void Push(float score, int id)
    {
        if (_scores.Length == 0) return;
        if (_count < _scores.Length)
        {
            var i = _count++;
            while (i > 0)
            {
                var parent = (i - 1) >> 1;
                if (_scores[parent] <= score) break;
                _scores[i] = _scores[parent];
                _ids[i] = _ids[parent];
                i = parent;
            }
            _scores[i] = score;
            _ids[i] = id;
        }
        else if (score > _scores[0])
        {
            SiftDown(score, id, _count);
        }
    }

    /// <summary>Sorts the kept entries best first, in place, and returns how many there are. The heap is spent after this.</summary>
    public int SortDescending()
    {
        var n = _count;
        // Heap-sort: repeatedly move the minimum to the end, which leaves the prefix in descending order.
        for (var end = n - 1; end > 0; end--)
        {
            var minScore = _scores[0];
            var minId = _ids[0];
            SiftDown(_scores[end], _ids[end], end);
            _scores[end] = minScore;
            _ids[end] = minId;
        }
        _count = 0;
        return n;
    }

    private readonly void SiftDown(float score, int id, int size)
    {
        var i = 0;
        while (true)
        {
            var child = (2 * i) + 1;
            if (child >= size) break;
            if (child + 1 < size && _scores[child + 1] < _scores[child]) child++;
            if (_scores[child] >= score) break;
            _scores[i] = _scores[child];
            _ids[i] = _ids[child];
            i = child;
        }
        _scores[i] = score;
        _ids[i] = id;
    }
}
