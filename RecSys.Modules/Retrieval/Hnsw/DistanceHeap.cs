using System.Runtime.CompilerServices;

namespace RecSys.Retrieval.Hnsw;

/// <summary>
/// A binary heap of (distance, node) pairs over two parallel arrays that grow only when a search needs more room than
/// any before it: the nearest on top (candidates) or the farthest on top (results, bounded to ef by the caller).
/// </summary>
internal sealed class DistanceHeap<TOrder>(int initialCapacity) where TOrder : struct, IHeapOrder
{
    private float[] _distances = new float[initialCapacity];
    private int[] _ids = new int[initialCapacity];

    public int Count { get; private set; }

    public float TopDistance => _distances[0];

    public int TopId => _ids[0];

    public void Clear() => Count = 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Before(float a, float b) => default(TOrder).Before(a, b);

    public void Push(float distance, int id)
    {
        if (Count == _distances.Length)
        {
            Array.Resize(ref _distances, Count * 2);
            Array.Resize(ref _ids, Count * 2);
        }
        var i = Count++;
        var distances = _distances;
        var ids = _ids;
        while (i > 0)
        {
            var parent = (i - 1) >> 1;
            if (!Before(distance, distances[parent])) break;
            distances[i] = distances[parent];
            ids[i] = ids[parent];
            i = parent;
        }
        distances[i] = distance;
        ids[i] = id;
    }

    /// <summary>Removes the top entry and returns its id.</summary>
    public int Pop()
    {
        var top = _ids[0];
        var n = --Count;
        if (n > 0)
        {
            var distance = _distances[n];
            var id = _ids[n];
            var distances = _distances;
            var ids = _ids;
            var i = 0;
            while (true)
            {
                var child = (2 * i) + 1;
                if (child >= n) break;
                if (child + 1 < n && Before(distances[child + 1], distances[child])) child++;
                if (!Before(distances[child], distance)) break;
                distances[i] = distances[child];
                ids[i] = ids[child];
                i = child;
            }
            distances[i] = distance;
            ids[i] = id;
        }
        return top;
    }
}

/// <summary>Which of two distances sits nearer the top of a <see cref="DistanceHeap{TOrder}"/> (a struct, so the JIT inlines it).</summary>
internal interface IHeapOrder
{
    bool Before(float a, float b);
}

/// <summary>Nearest on top.</summary>
internal readonly struct NearestFirst : IHeapOrder
{
    public bool Before(float a, float b) => a < b;
}

/// <summary>Farthest on top.</summary>
internal readonly struct FarthestFirst : IHeapOrder
{
    public bool Before(float a, float b) => a > b;
}
