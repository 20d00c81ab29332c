using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RecSys.Retrieval.Hnsw;

/// <summary>
/// A binary heap of (distance, node) pairs over two parallel arrays that grow only when a search needs more room than
/// any before it: the nearest on top (candidates) or the farthest on top (results, bounded to ef by the caller).
/// Indexing goes through unchecked references: every index is below <see cref="Count"/>, which never exceeds the arrays.
/// </summary>
internal sealed class DistanceHeap<TOrder>(int initialCapacity) where TOrder : struct, IHeapOrder
{
    private float[] _distances = new float[initialCapacity];
    private int[] _ids = new int[initialCapacity];
    private int _count;

    public int Count => _count;

    public float TopDistance => MemoryMarshal.GetArrayDataReference(_distances);

    public int TopId => MemoryMarshal.GetArrayDataReference(_ids);

    public void Clear() => _count = 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Before(float a, float b) => default(TOrder).Before(a, b);

    public void Push(float distance, int id)
    {
        if (_count == _distances.Length)
        {
            Array.Resize(ref _distances, _count * 2);
            Array.Resize(ref _ids, _count * 2);
        }
        var i = _count++;
        ref var distances = ref MemoryMarshal.GetArrayDataReference(_distances);
        ref var ids = ref MemoryMarshal.GetArrayDataReference(_ids);
        while (i > 0)
        {
            var parent = (i - 1) >> 1;
            var parentDistance = Unsafe.Add(ref distances, parent);
            if (!Before(distance, parentDistance)) break;
            Unsafe.Add(ref distances, i) = parentDistance;
            Unsafe.Add(ref ids, i) = Unsafe.Add(ref ids, parent);
            i = parent;
        }
        Unsafe.Add(ref distances, i) = distance;
        Unsafe.Add(ref ids, i) = id;
    }

    /// <summary>Removes the top entry and returns its id.</summary>
    public int Pop()
    {
        ref var distances = ref MemoryMarshal.GetArrayDataReference(_distances);
        ref var ids = ref MemoryMarshal.GetArrayDataReference(_ids);
        var top = ids;
        var n = --_count;
        if (n > 0)
        {
            var distance = Unsafe.Add(ref distances, n);
            var id = Unsafe.Add(ref ids, n);
            var i = 0;
            while (true)
            {
                var child = (2 * i) + 1;
                if (child >= n) break;
                var childDistance = Unsafe.Add(ref distances, child);
                if (child + 1 < n)
                {
                    var right = Unsafe.Add(ref distances, child + 1);
                    if (Before(right, childDistance))
                    {
                        child++;
                        childDistance = right;
                    }
                }
                if (!Before(childDistance, distance)) break;
                Unsafe.Add(ref distances, i) = childDistance;
                Unsafe.Add(ref ids, i) = Unsafe.Add(ref ids, child);
                i = child;
            }
            Unsafe.Add(ref distances, i) = distance;
            Unsafe.Add(ref ids, i) = id;
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
