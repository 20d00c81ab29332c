namespace RecSys.Retrieval.Hnsw;

/// <summary>
/// Which nodes a search may return. Searches are generic over a struct filter so the check is inlined into the graph
/// walk; ineligible nodes are still walked through (they keep the graph connected), just never returned.
/// </summary>
internal interface IItemFilter
{
    bool IsEligible(int item);
}

/// <summary>Every item is eligible (no filter).</summary>
internal readonly struct AllowAll : IItemFilter
{
    public bool IsEligible(int item) => true;
}

/// <summary>The request's <see cref="EligibilityFilter"/> (NSFW, blocked authors, already seen).</summary>
internal readonly struct EligibilityItemFilter(EligibilityFilter filter) : IItemFilter
{
    public bool IsEligible(int item) => filter.IsEligible(item);
}

/// <summary>A bitset of eligible items: bit i of word i / 64 set means item i is eligible.</summary>
internal readonly struct BitsetFilter(ulong[] bits) : IItemFilter
{
    public bool IsEligible(int item)
    {
        var word = item >> 6;
        return (uint)word < (uint)bits.Length && (bits[word] & (1UL << item)) != 0;
    }
}
