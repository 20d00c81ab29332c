using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RecSys.Retrieval.Hnsw;

/// <summary>
/// Hierarchical navigable small world graph (Malkov &amp; Yashunin, 2018) for approximate nearest neighbour search.
/// <para>
/// Layout: one flat array of node blocks, each the vector then the level-0 links (a count, then up to 2M ids);
/// upper-level links in one small array per node that has upper levels (about 1/M of nodes). Node ids are dense
/// (0..Count-1) and equal the row of the vector, so callers use item indices directly.
/// </para>
/// <para>
/// Levels come from a hash of (seed, id), so a single-threaded build is deterministic for a given seed and insertion
/// order. Inserts lock only the node whose links they rewrite (spin locks in one int array) and the entry point when
/// they raise the top level; searches read links without locks (ids are written before counts, every id read is a
/// fully written node), so <see cref="Add"/> may run while searches run and an added node is findable when Add returns.
/// Capacity is fixed at construction. Deletion is soft: deleted nodes still route searches but are never returned.
/// </para>
/// </summary>
internal sealed class HnswIndex
{
    private const int ReadyFlag = 1;
    private const int DeletedFlag = 2;
    private const int MaxLevelCap = 30;

    /// <summary>A filtered graph walk costs about this many distance computations per eligible result it needs, divided by selectivity.</summary>
    private const int FilteredWalkCostFactor = 4;

    private const int SelectivitySamples = 256;

    /// <summary>
    /// Node blocks in one pinned array: per node its vector, then its level-0 list (count + 2M ids, stored as int bits),
    /// padded to a multiple of 64 bytes. Block 0 starts at <see cref="_nodeBase"/>, on a 64-byte boundary, so vector
    /// loads never straddle cache lines, and a node's links sit beside the vector a search has just read.
    /// </summary>
    private readonly float[] _nodes;
    private readonly int _nodeBase;
    private readonly int _nodeStride;
    private readonly int[]?[] _upper;
    private readonly byte[] _levels;
    private readonly int[] _flags;
    private readonly int[] _locks;
    private readonly int _linkStride0;
    private readonly int _linkStrideUpper;
    private readonly double _levelMultiplier;
    private readonly SearchContextPool _pool;
    private readonly Lock _entryLock = new();
    private int _reserved;
    private int _deleted;

    /// <summary>Entry point id in the low 32 bits, top level in the high 32; -1 while empty.</summary>
    private long _entry = -1;

    public HnswIndex(int dimensions, HnswMetric metric, int capacity, HnswParameters parameters)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentNullException.ThrowIfNull(parameters);
        parameters.Validate();
        var nodeStride = ((dimensions + parameters.MaxM0 + 1 + 15) / 16) * 16;
        if (((long)capacity * nodeStride) + 16 > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(capacity), "capacity x dimensions exceeds the largest array.");
        Dimensions = dimensions;
        Metric = metric;
        Capacity = capacity;
        Parameters = parameters;
        _linkStride0 = parameters.MaxM0 + 1;
        _linkStrideUpper = parameters.M + 1;
        _levelMultiplier = 1.0 / Math.Log(parameters.M);
        _nodeStride = nodeStride;
        _nodes = GC.AllocateArray<float>((capacity * nodeStride) + 16, pinned: true);
        _nodeBase = AlignmentOffset(_nodes);
        _upper = new int[]?[capacity];
        _levels = new byte[capacity];
        _flags = new int[capacity];
        _locks = new int[capacity];
        _pool = new SearchContextPool(capacity, dimensions);
    }

    public int Dimensions { get; }
    public HnswMetric Metric { get; }
    public int Capacity { get; }
    public HnswParameters Parameters { get; }

    /// <summary>Default ef of searches that do not pass one.</summary>
    public int EfSearch { get; set; } = 64;

    /// <summary>Nodes inserted (or being inserted), deleted ones included.</summary>
    public int Count => Math.Min(Volatile.Read(ref _reserved), Capacity);

    public int DeletedCount => Volatile.Read(ref _deleted);

    /// <summary>Bytes held by vectors, links, levels and flags.</summary>
    public long MemoryBytes
    {
        get
        {
            long upper = 0;
            foreach (var links in _upper) if (links is not null) upper += 16 + (4L * links.Length);
            return (4L * Capacity * _nodeStride) + (8L * _upper.Length) + upper + _levels.Length + (4L * _flags.Length) + (4L * _locks.Length);
        }
    }

    /// <summary>Builds an index over the rows of <paramref name="vectors"/> (row i becomes node i) on up to <paramref name="threads"/> threads.</summary>
    public static HnswIndex Build(ReadOnlySpan<float> vectors, int dimensions, HnswMetric metric, HnswParameters parameters, int threads, int? capacity = null)
    {
        if (vectors.Length % dimensions != 0) throw new ArgumentException($"{vectors.Length} floats are not a multiple of {dimensions} dimensions.", nameof(vectors));
        var count = vectors.Length / dimensions;
        var index = new HnswIndex(dimensions, metric, Math.Max(1, Math.Max(count, capacity ?? count)), parameters);
        for (var i = 0; i < count; i++)
        {
            var row = index.RowSpan(i);
            vectors.Slice(i * dimensions, dimensions).CopyTo(row);
            if (metric == HnswMetric.Cosine) Distances.Normalize(row);
        }
        for (var i = 0; i < count; i++) index.PrepareNode(i);
        index._reserved = count;
        if (count == 0) return index;

        var context = index._pool.Rent();
        index.Insert(0, context);
        if (threads <= 1)
        {
            for (var i = 1; i < count; i++) index.Insert(i, context);
            index._pool.Return(context);
            return index;
        }
        index._pool.Return(context);
        Parallel.For(1, count, new ParallelOptions { MaxDegreeOfParallelism = threads },
            index._pool.Rent,
            (i, _, ctx) => { index.Insert(i, ctx); return ctx; },
            index._pool.Return);
        return index;
    }

    /// <summary>Adds one vector, safe to call while searches (and other adds) run. Returns its node id.</summary>
    public int Add(ReadOnlySpan<float> vector)
    {
        if (vector.Length != Dimensions) throw new ArgumentException($"Vector has {vector.Length} dimensions, the index has {Dimensions}.", nameof(vector));
        var id = Interlocked.Increment(ref _reserved) - 1;
        if (id >= Capacity)
        {
            Interlocked.Decrement(ref _reserved);
            throw new InvalidOperationException($"The index is full ({Capacity} nodes); build a larger one.");
        }
        var row = RowSpan(id);
        vector.CopyTo(row);
        if (Metric == HnswMetric.Cosine) Distances.Normalize(row);
        PrepareNode(id);
        var context = _pool.Rent();
        try
        {
            Insert(id, context);
        }
        finally
        {
            _pool.Return(context);
        }
        return id;
    }

    /// <summary>Soft-deletes a node: it keeps routing searches but is never returned again.</summary>
    public bool Delete(int id)
    {
        if ((uint)id >= (uint)Count) return false;
        var before = Interlocked.Or(ref _flags[id], DeletedFlag);
        if ((before & DeletedFlag) != 0) return false;
        Interlocked.Increment(ref _deleted);
        return true;
    }

    public bool IsDeleted(int id) => (uint)id < (uint)Count && (Volatile.Read(ref _flags[id]) & DeletedFlag) != 0;

    /// <summary>The stored vector of a node (normalised for cosine).</summary>
    public ReadOnlySpan<float> Vector(int id) => RowSpan(id);

    private Span<float> RowSpan(int id) => _nodes.AsSpan(_nodeBase + (id * _nodeStride), Dimensions);

    private static unsafe int AlignmentOffset(float[] pinned)
    {
        var address = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned));
        return (int)((64 - (address % 64)) % 64 / sizeof(float));
    }

    public int Search(ReadOnlySpan<float> query, int k, int ef, Span<int> ids, Span<float> scores) =>
        Search(query, k, ef, default(AllowAll), ids, scores);

    /// <summary>
    /// Writes the (approximately) k nearest eligible nodes, best first, with their scores (larger is closer) and returns
    /// how many were written. ef is raised to k. When the filter admits only a small fraction of nodes, so that the
    /// graph walk would cost more than a scan, the eligible nodes are scanned exactly instead.
    /// </summary>
    public int Search<TFilter>(ReadOnlySpan<float> query, int k, int ef, TFilter filter, Span<int> ids, Span<float> scores)
        where TFilter : struct, IItemFilter
    {
        if (query.Length != Dimensions) throw new ArgumentException($"Query has {query.Length} dimensions, the index has {Dimensions}.", nameof(query));
        k = Math.Min(k, Math.Min(ids.Length, scores.Length));
        if (k <= 0) return 0;
        ef = Math.Max(ef <= 0 ? EfSearch : ef, k);
        var entry = Volatile.Read(ref _entry);
        if (entry < 0) return 0;

        var context = _pool.Rent();
        try
        {
            var q = context.Query;
            query.CopyTo(q);
            if (Metric == HnswMetric.Cosine) Distances.Normalize(q);
            var filtering = typeof(TFilter) != typeof(AllowAll) || Volatile.Read(ref _deleted) > 0;
            if (typeof(TFilter) != typeof(AllowAll) && PreferExactScan(ref filter, ef))
            {
                return ExactScan(q, ref filter, ids[..k], scores[..k]);
            }

            ref var qRef = ref MemoryMarshal.GetArrayDataReference(q);
            var current = (int)entry;
            var currentDistance = Distance(ref qRef, current);
            for (var level = (int)(entry >> 32); level > 0; level--)
            {
                GreedyClosest(ref qRef, ref current, ref currentDistance, level);
            }
            SearchLayer(context, ref qRef, current, currentDistance, ef, 0, ref filter, filtering, excludeDeleted: Volatile.Read(ref _deleted) > 0);
            var results = context.Results;
            while (results.Count > k) results.Pop();
            var found = results.Count;
            for (var i = found - 1; i >= 0; i--)
            {
                scores[i] = ToScore(results.TopDistance);
                ids[i] = results.Pop();
            }
            return found;
        }
        finally
        {
            _pool.Return(context);
        }
    }

    /// <summary>Exact top-k of eligible, live nodes: the reference for tests and the path for very selective filters.</summary>
    public int ExactSearch<TFilter>(ReadOnlySpan<float> query, TFilter filter, Span<int> ids, Span<float> scores) where TFilter : struct, IItemFilter
    {
        if (query.Length != Dimensions) throw new ArgumentException($"Query has {query.Length} dimensions, the index has {Dimensions}.", nameof(query));
        var k = Math.Min(ids.Length, scores.Length);
        var q = new float[Dimensions];
        query.CopyTo(q);
        if (Metric == HnswMetric.Cosine) Distances.Normalize(q);
        return ExactScan(q, ref filter, ids[..k], scores[..k]);
    }

    private bool PreferExactScan<TFilter>(ref TFilter filter, int ef) where TFilter : struct, IItemFilter
    {
        var count = Count;
        if (count <= SelectivitySamples) return true;
        var step = count / SelectivitySamples;
        var eligible = 0;
        for (var i = 0; i < SelectivitySamples; i++)
        {
            if (filter.IsEligible((i * step) + (step >> 1))) eligible++;
        }
        if (eligible == 0) return true;
        var selectivity = eligible / (double)SelectivitySamples;
        var walkCost = FilteredWalkCostFactor * ef / selectivity;
        var scanCost = (count * selectivity) + (count / 8.0);
        return scanCost < walkCost;
    }

    private int ExactScan<TFilter>(float[] q, ref TFilter filter, Span<int> ids, Span<float> scores) where TFilter : struct, IItemFilter
    {
        var heap = new TopK(scores, ids);
        var count = Count;
        ref var qRef = ref MemoryMarshal.GetArrayDataReference(q);
        for (var id = 0; id < count; id++)
        {
            if (Volatile.Read(ref _flags[id]) != ReadyFlag || !filter.IsEligible(id)) continue;
            var score = ToScore(Distance(ref qRef, id));
            if (score > heap.Threshold) heap.Push(score, id);
        }
        return heap.SortDescending();
    }

    // ---- construction -------------------------------------------------------------------------------------------

    /// <summary>Draws the node's level from a hash of (seed, id) and allocates its upper-level links.</summary>
    private void PrepareNode(int id)
    {
        var bits = SplitMix(Parameters.Seed ^ ((ulong)id * 0x9E3779B97F4A7C15UL));
        var uniform = ((bits >> 11) + 1) * (1.0 / 9007199254740993.0); // (0, 1]
        var level = Math.Min(MaxLevelCap, (int)(-Math.Log(uniform) * _levelMultiplier));
        _levels[id] = (byte)level;
        _upper[id] = level > 0 ? new int[level * _linkStrideUpper] : null;
    }

    private static ulong SplitMix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    private void Insert(int id, SearchContext context)
    {
        int level = _levels[id];
        var entry = Volatile.Read(ref _entry);
        var holdsEntryLock = false;
        if (entry < 0 || level > (int)(entry >> 32))
        {
            _entryLock.Enter();
            holdsEntryLock = true;
            entry = Volatile.Read(ref _entry);
            if (entry < 0)
            {
                Volatile.Write(ref _entry, Pack(id, level));
                Interlocked.Or(ref _flags[id], ReadyFlag);
                _entryLock.Exit();
                return;
            }
            if (level <= (int)(entry >> 32))
            {
                _entryLock.Exit();
                holdsEntryLock = false;
            }
        }
        try
        {
            ref var q = ref Row(id);
            var current = (int)entry;
            var top = (int)(entry >> 32);
            var currentDistance = Distance(ref q, current);
            for (var lc = top; lc > level; lc--) GreedyClosest(ref q, ref current, ref currentDistance, lc);
            var noFilter = default(AllowAll);
            for (var lc = Math.Min(level, top); lc >= 0; lc--)
            {
                SearchLayer(context, ref q, current, currentDistance, Parameters.EfConstruction, lc, ref noFilter, filtering: false, excludeDeleted: false);
                var n = DrainAscending(context, id);
                if (n == 0) continue;
                current = context.SortedIds[0];
                currentDistance = context.SortedDistances[0];
                var selected = SelectNeighbours(context, n, Parameters.M);
                WriteOwnLinks(id, lc, context, selected);
            }
            for (var lc = 0; lc <= Math.Min(level, top); lc++) LinkBack(id, lc, context);
            Interlocked.Or(ref _flags[id], ReadyFlag);
            if (holdsEntryLock) Volatile.Write(ref _entry, Pack(id, level));
        }
        finally
        {
            if (holdsEntryLock) _entryLock.Exit();
        }
    }

    private static long Pack(int id, int level) => ((long)level << 32) | (uint)id;

    /// <summary>Moves the results heap into SortedIds/SortedDistances, nearest first; returns the count.</summary>
    /// <remarks>Skips <paramref name="self"/>: a concurrent insert may already have linked the node being inserted.</remarks>
    private static int DrainAscending(SearchContext context, int self)
    {
        var results = context.Results;
        var n = results.Count;
        context.EnsureScratch(n + 1);
        for (var i = n - 1; i >= 0; i--)
        {
            context.SortedDistances[i] = results.TopDistance;
            context.SortedIds[i] = results.Pop();
        }
        var kept = 0;
        for (var i = 0; i < n; i++)
        {
            if (context.SortedIds[i] == self) continue;
            context.SortedIds[kept] = context.SortedIds[i];
            context.SortedDistances[kept] = context.SortedDistances[i];
            kept++;
        }
        return kept;
    }

    /// <summary>
    /// The paper's heuristic (algorithm 4): walk candidates nearest first and keep one only if it is closer to the base
    /// than to every neighbour kept so far, which spreads links across directions. Reads SortedIds/SortedDistances,
    /// writes Selected/SelectedDistances, returns how many were kept.
    /// </summary>
    private int SelectNeighbours(SearchContext context, int n, int max)
    {
        var ids = context.SortedIds;
        var distances = context.SortedDistances;
        var selected = context.Selected;
        var selectedDistances = context.SelectedDistances;
        if (n <= max)
        {
            Array.Copy(ids, selected, n);
            Array.Copy(distances, selectedDistances, n);
            return n;
        }
        var kept = 0;
        for (var i = 0; i < n && kept < max; i++)
        {
            var candidate = ids[i];
            var distance = distances[i];
            ref var c = ref Row(candidate);
            var good = true;
            for (var j = 0; j < kept; j++)
            {
                if (Distance(ref c, selected[j]) < distance)
                {
                    good = false;
                    break;
                }
            }
            if (!good) continue;
            selected[kept] = candidate;
            selectedDistances[kept] = distance;
            kept++;
        }
        return kept;
    }

    /// <summary>Writes the node's own links on one level. Nobody links to the node yet, so nobody reads them yet.</summary>
    private void WriteOwnLinks(int id, int level, SearchContext context, int selectedCount)
    {
        SpinLock(id);
        var own = Links(id, level);
        context.Selected.AsSpan(0, selectedCount).CopyTo(own[1..]);
        Volatile.Write(ref own[0], selectedCount);
        SpinUnlock(id);
    }

    /// <summary>
    /// Adds the node to the lists of its chosen neighbours on one level, which makes it reachable there. Called level 0
    /// first, after every own list is written, so a search that reaches the node on any level finds complete lists.
    /// A neighbour whose list is full keeps the best <c>max</c> of its links plus the new node, by the same heuristic.
    /// </summary>
    private void LinkBack(int id, int level, SearchContext context)
    {
        var max = level == 0 ? Parameters.MaxM0 : Parameters.M;
        Span<int> chosen = stackalloc int[Parameters.MaxM0];
        SpinLock(id);
        var own = Links(id, level);
        var ownCount = own[0];
        own.Slice(1, ownCount).CopyTo(chosen);
        SpinUnlock(id);

        foreach (var neighbour in chosen[..ownCount])
        {
            SpinLock(neighbour);
            try
            {
                var links = Links(neighbour, level);
                var count = links[0];
                if (links.Slice(1, count).Contains(id)) continue;
                if (count < max)
                {
                    links[1 + count] = id;
                    Volatile.Write(ref links[0], count + 1);
                    continue;
                }
                context.EnsureScratch(max + 2);
                ref var nv = ref Row(neighbour);
                var n = 0;
                InsertSorted(context, ref n, Distance(ref nv, id), id);
                for (var j = 1; j <= count; j++) InsertSorted(context, ref n, Distance(ref nv, links[j]), links[j]);
                var kept = SelectNeighbours(context, n, max);
                context.Selected.AsSpan(0, kept).CopyTo(links[1..]);
                Volatile.Write(ref links[0], kept);
            }
            finally
            {
                SpinUnlock(neighbour);
            }
        }
    }

    private static void InsertSorted(SearchContext context, ref int n, float distance, int id)
    {
        var ids = context.SortedIds;
        var distances = context.SortedDistances;
        var i = n++;
        while (i > 0 && distances[i - 1] > distance)
        {
            distances[i] = distances[i - 1];
            ids[i] = ids[i - 1];
            i--;
        }
        distances[i] = distance;
        ids[i] = id;
    }

    // ---- search primitives --------------------------------------------------------------------------------------

    private void GreedyClosest(ref float q, ref int current, ref float currentDistance, int level)
    {
        var changed = true;
        while (changed)
        {
            changed = false;
            var links = Links(current, level);
            var count = Volatile.Read(ref links[0]);
            for (var j = 1; j <= count; j++)
            {
                var candidate = links[j];
                var d = Distance(ref q, candidate);
                if (d < currentDistance)
                {
                    currentDistance = d;
                    current = candidate;
                    changed = true;
                }
            }
        }
    }

    /// <summary>
    /// Algorithm 2 of the paper with a filter: best-first expansion from the entry point, keeping the ef nearest
    /// eligible nodes in Results. Ineligible nodes are expanded but not kept; while filtering, the walk goes on until
    /// ef eligible nodes are found or nothing closer remains.
    /// </summary>
    private void SearchLayer<TFilter>(SearchContext context, ref float q, int entry, float entryDistance, int ef, int level,
        ref TFilter filter, bool filtering, bool excludeDeleted) where TFilter : struct, IItemFilter
    {
        var visited = context.Visited;
        var candidates = context.Candidates;
        var results = context.Results;
        visited.Reset();
        candidates.Clear();
        results.Clear();
        visited.TestAndMark(entry);
        candidates.Push(entryDistance, entry);
        if (IsReturnable(entry, ref filter, excludeDeleted)) results.Push(entryDistance, entry);
        var bound = results.Count > 0 ? results.TopDistance : float.MaxValue;

        while (candidates.Count > 0)
        {
            var candidateDistance = candidates.TopDistance;
            if (candidateDistance > bound && (results.Count >= ef || !filtering)) break;
            var node = candidates.Pop();
            ref var links = ref LinksRef(node, level);
            var count = Volatile.Read(ref links);
            if (count > 0) Prefetch(ref Row(Unsafe.Add(ref links, 1)));
            for (var j = 1; j <= count; j++)
            {
                var neighbour = Unsafe.Add(ref links, j);
                if (j < count)
                {
                    var next = Unsafe.Add(ref links, j + 1);
                    Prefetch(ref Row(next));
                    PrefetchTag(ref visited.Slot(next));
                }
                if (visited.TestAndMark(neighbour)) continue;
                var d = Distance(ref q, neighbour);
                if (results.Count < ef || d < bound)
                {
                    candidates.Push(d, neighbour);
                    if (IsReturnable(neighbour, ref filter, excludeDeleted))
                    {
                        results.Push(d, neighbour);
                        if (results.Count > ef) results.Pop();
                        bound = results.TopDistance;
                    }
                }
            }
            // The next node to expand: fetch its link list while this loop's tail retires.
            if (candidates.Count > 0) Prefetch(ref LinksRef(candidates.TopId, level));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Prefetch(ref float address)
    {
        if (System.Runtime.Intrinsics.X86.Sse.IsSupported) System.Runtime.Intrinsics.X86.Sse.Prefetch0(Unsafe.AsPointer(ref address));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Prefetch(ref int address)
    {
        if (System.Runtime.Intrinsics.X86.Sse.IsSupported) System.Runtime.Intrinsics.X86.Sse.Prefetch0(Unsafe.AsPointer(ref address));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PrefetchTag(ref ushort address)
    {
        if (System.Runtime.Intrinsics.X86.Sse.IsSupported) System.Runtime.Intrinsics.X86.Sse.Prefetch0(Unsafe.AsPointer(ref address));
    }

    /// <summary>A reference to the count slot of a node's list on a level; the ids follow it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref int LinksRef(int id, int level) => ref level == 0
        ? ref Unsafe.As<float, int>(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_nodes), _nodeBase + ((nint)id * _nodeStride) + Dimensions))
        : ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_upper[id]!), (level - 1) * _linkStrideUpper);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool IsReturnable<TFilter>(int id, ref TFilter filter, bool excludeDeleted) where TFilter : struct, IItemFilter =>
        (!excludeDeleted || (_flags[id] & DeletedFlag) == 0) && filter.IsEligible(id);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<int> Links(int id, int level) => level == 0
        ? MemoryMarshal.CreateSpan(ref LinksRef(id, 0), _linkStride0)
        : _upper[id].AsSpan((level - 1) * _linkStrideUpper, _linkStrideUpper);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref float Row(int id) => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_nodes), _nodeBase + ((nint)id * _nodeStride));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float Distance(ref float q, int id) => Metric == HnswMetric.L2
        ? Distances.SquaredL2(ref q, ref Row(id), Dimensions)
        : -Distances.Dot(ref q, ref Row(id), Dimensions);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float ToScore(float distance) => -distance;

    private void SpinLock(int id)
    {
        ref var slot = ref _locks[id];
        if (Interlocked.CompareExchange(ref slot, 1, 0) == 0) return;
        var spinner = default(SpinWait);
        while (Interlocked.CompareExchange(ref slot, 1, 0) != 0) spinner.SpinOnce(sleep1Threshold: -1);
    }

    private void SpinUnlock(int id) => Volatile.Write(ref _locks[id], 0);

    // ---- persistence access -------------------------------------------------------------------------------------

    /// <summary>The node blocks (capacity x <see cref="NodeStride"/> floats): vectors and level-0 links.</summary>
    internal Span<float> RawNodes => _nodes.AsSpan(_nodeBase, Capacity * _nodeStride);
    internal int NodeStride => _nodeStride;
    internal int[]?[] RawUpper => _upper;
    internal byte[] RawLevels => _levels;
    internal int[] RawFlags => _flags;
    internal long RawEntry => Volatile.Read(ref _entry);

    internal void RestoreState(int count, long entry)
    {
        _reserved = count;
        _entry = entry;
        var deleted = 0;
        for (var i = 0; i < count; i++) if ((_flags[i] & DeletedFlag) != 0) deleted++;
        _deleted = deleted;
    }
}
