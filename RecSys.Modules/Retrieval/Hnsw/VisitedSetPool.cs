namespace RecSys.Retrieval.Hnsw;

/// <summary>
/// Marks which nodes a search has reached. Clearing is a tag bump: a node counts as visited when its slot holds the
/// current tag, so a new search costs one increment, and the array is wiped only when the 16-bit tag wraps around.
/// </summary>
internal sealed class VisitedSet(int capacity)
{
    private readonly ushort[] _tags = new ushort[capacity];
    private ushort _current;

    public int Capacity => _tags.Length;

    /// <summary>Starts a new search: nothing is visited.</summary>
    public void Reset()
    {
        _current++;
        if (_current == 0)
        {
            Array.Clear(_tags);
            _current = 1;
        }
    }

    /// <summary>The tag slot of a node, for prefetching.</summary>
    public ref ushort Slot(int node) => ref System.Runtime.CompilerServices.Unsafe.Add(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(_tags), node);

    /// <summary>Marks <paramref name="node"/> visited and says whether it already was.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public bool TestAndMark(int node)
    {
        // Node ids come from the graph, always below the capacity the set was made for.
        ref var tag = ref System.Runtime.CompilerServices.Unsafe.Add(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(_tags), node);
        if (tag == _current) return true;
        tag = _current;
        return false;
    }
}

/// <summary>
/// A lock-free pool of per-search scratch state (visited set and heaps), so searches allocate nothing once warm.
/// Slots are taken and returned with interlocked exchanges; when every slot is in use a fresh context is made.
/// </summary>
internal sealed class SearchContextPool(int capacity, int dimensions)
{
    private readonly SearchContext?[] _slots = new SearchContext?[Math.Max(4, Environment.ProcessorCount * 2)];

    public SearchContext Rent()
    {
        for (var i = 0; i < _slots.Length; i++)
        {
            var context = Interlocked.Exchange(ref _slots[i], null);
            if (context is not null) return context;
        }
        return new SearchContext(capacity, dimensions);
    }

    public void Return(SearchContext context)
    {
        for (var i = 0; i < _slots.Length; i++)
        {
            if (Interlocked.CompareExchange(ref _slots[i], context, null) is null) return;
        }
    }
}

/// <summary>Scratch state of one search or insertion.</summary>
internal sealed class SearchContext(int capacity, int dimensions)
{
    public VisitedSet Visited { get; } = new(capacity);
    public DistanceHeap<NearestFirst> Candidates { get; } = new(64);
    public DistanceHeap<FarthestFirst> Results { get; } = new(64);

    /// <summary>The query, normalised when the metric is cosine.</summary>
    public float[] Query { get; } = new float[dimensions];

    /// <summary>Neighbour selection scratch: candidates in ascending distance, and the chosen ones.</summary>
    public int[] SortedIds = new int[64];
    public float[] SortedDistances = new float[64];
    public int[] Selected = new int[64];
    public float[] SelectedDistances = new float[64];

    public void EnsureScratch(int size)
    {
        if (SortedIds.Length >= size) return;
        var n = Math.Max(size, SortedIds.Length * 2);
        SortedIds = new int[n];
        SortedDistances = new float[n];
        Selected = new int[n];
        SelectedDistances = new float[n];
    }
}
