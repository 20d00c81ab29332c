using RecSys.Retrieval;

namespace RecSys.ReRanking.Rules;

/// <summary>
/// The working list the rules edit, reused per thread so a request allocates nothing. A slot value <c>v &lt; N</c> is a
/// position in the ranker's order; <c>v &gt;= N</c> is an item brought in from outside the candidates (a pin), kept in
/// <see cref="ExternalItem"/>. Per-slot-value arrays (relevance, marks, removed) are indexed by the slot value.
/// </summary>
internal sealed class RuleList
{
    /// <summary>Most items rules may bring in from outside the candidates.</summary>
    public const int MaxExternal = 16;

    [ThreadStatic] private static RuleList? _perThread;

    private int[] _slots = new int[64];
    private float[] _relevance = new float[64];
    private ulong[] _marks = new ulong[64];
    private bool[] _removed = new bool[64];
    private int[] _scratchInt = new int[64];
    private int[] _scratchOrder = new int[64];
    private float[] _scratchFloat = new float[64];
    private readonly int[] _external = new int[MaxExternal];

    public static RuleList ForThisThread() => _perThread ??= new RuleList();

    /// <summary>The running chain's gates (<see cref="IItemGate"/>), set for each run.</summary>
    public IItemGate[] Gates { get; set; } = [];

    /// <summary>True when the request's safety and seen set and every gate of the chain let <paramref name="item"/> through.</summary>
    public bool MayInsert(in ReRankInput input, int item)
    {
        if (!input.IsAllowed(item)) return false;
        foreach (var gate in Gates)
        {
            if (!gate.Allows(input, item)) return false;
        }
        return true;
    }

    /// <summary>Number of candidates (slot values below it are ranked positions).</summary>
    public int N { get; private set; }

    /// <summary>How many items the caller wants.</summary>
    public int Target { get; private set; }

    public int Length { get; private set; }

    public int ExternalCount { get; private set; }

    public Span<int> Slots => _slots.AsSpan(0, Length);

    /// <summary>The whole slot buffer, for rules that rebuild the list and then call <see cref="SetLength"/>.</summary>
    public Span<int> SlotsBuffer => _slots;

    public Span<float> Relevance => _relevance;

    public Span<ulong> Marks => _marks;

    public Span<bool> Removed => _removed;

    /// <summary>Scratch space of one value per slot value, free for the running rule.</summary>
    public Span<int> ScratchInt => _scratchInt;

    public Span<float> ScratchFloat => _scratchFloat;

    /// <summary>Scratch space for rebuilding the list's order.</summary>
    public Span<int> ScratchOrder => _scratchOrder;

    /// <summary>Starts a request: the list is the first <paramref name="window"/> ranked positions, relevance is zeroed.</summary>
    public void Reset(int n, int window, int target)
    {
        var capacity = n + MaxExternal;
        if (_slots.Length < capacity)
        {
            var size = Math.Max(capacity, _slots.Length * 2);
            _slots = new int[size];
            _relevance = new float[size];
            _marks = new ulong[size];
            _removed = new bool[size];
            _scratchInt = new int[size];
            _scratchOrder = new int[size];
            _scratchFloat = new float[size];
        }
        N = n;
        Target = target;
        Length = window;
        ExternalCount = 0;
        for (var i = 0; i < window; i++) _slots[i] = i;
        Array.Clear(_marks, 0, capacity);
        Array.Clear(_removed, 0, capacity);
    }

    public int ItemOf(in ReRankInput input, int slotValue) =>
        slotValue < N ? input.Items[input.Order[slotValue]] : _external[slotValue - N];

    public CandidateSource SourceOf(in ReRankInput input, int slotValue) =>
        slotValue < N ? input.Sources[input.Order[slotValue]] : CandidateSource.None;

    public int ExternalItem(int slotValue) => _external[slotValue - N];

    /// <summary>Registers an item from outside the candidates; returns its slot value, or -1 when the room is used up.</summary>
    public int AddExternal(int item, float relevance)
    {
        if (ExternalCount == MaxExternal) return -1;
        _external[ExternalCount] = item;
        var value = N + ExternalCount++;
        _relevance[value] = relevance;
        _marks[value] = 0;
        _removed[value] = false;
        return value;
    }

    /// <summary>The list index of a slot value, or -1.</summary>
    public int IndexOf(int slotValue) => Slots.IndexOf(slotValue);

    /// <summary>Truncates the list after a rule compacted <see cref="Slots"/> in place.</summary>
    public void SetLength(int length) => Length = length;

    public void Remove(int index, ulong bit)
    {
        var value = _slots[index];
        _removed[value] = true;
        _marks[value] |= bit;
        Array.Copy(_slots, index + 1, _slots, index, Length - index - 1);
        Length--;
    }

    public void Insert(int index, int slotValue)
    {
        index = Math.Clamp(index, 0, Length);
        Array.Copy(_slots, index, _slots, index + 1, Length - index);
        _slots[index] = slotValue;
        Length++;
    }

    /// <summary>Moves the slot at <paramref name="from"/> to <paramref name="to"/>, shifting those between.</summary>
    public void Move(int from, int to)
    {
        if (from == to) return;
        var value = _slots[from];
        if (from > to) Array.Copy(_slots, to, _slots, to + 1, from - to);
        else Array.Copy(_slots, from + 1, _slots, from, to - from);
        _slots[to] = value;
    }

    /// <summary>Stable sort by relevance, best first; slots that moved up are marked with <paramref name="bit"/> (none when 0).</summary>
    public void SortByRelevance(ulong bit)
    {
        var slots = Slots;
        for (var i = 0; i < slots.Length; i++) _scratchInt[slots[i]] = i;
        // Insertion sort: the list is short (the window) and nearly sorted, and it allocates nothing.
        for (var i = 1; i < slots.Length; i++)
        {
            var value = slots[i];
            var key = _relevance[value];
            var j = i - 1;
            while (j >= 0 && _relevance[slots[j]] < key)
            {
                slots[j + 1] = slots[j];
                j--;
            }
            slots[j + 1] = value;
        }
        if (bit == 0) return;
        for (var i = 0; i < slots.Length; i++)
        {
            if (i < _scratchInt[slots[i]]) _marks[slots[i]] |= bit;
        }
    }
}
