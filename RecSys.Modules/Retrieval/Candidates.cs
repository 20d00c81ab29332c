using System.Buffers;
using RecSys.Catalog;

namespace RecSys.Retrieval;

/// <summary>Which sources produced a candidate. A candidate found by several sources keeps every flag.</summary>
[Flags]
public enum CandidateSource : byte
{
    None = 0,
    Ann = 1,
    ItemToItem = 2,
    Social = 4,
    Trending = 8,
    Fresh = 16,
    Popular = 32,
}

/// <summary>Names of the sources as they appear in responses.</summary>
public static class CandidateSourceNames
{
    private static readonly string[] Names = ["ann", "item2item", "social", "trending", "fresh", "popular"];

    /// <summary>The name of the strongest (lowest) flag set; responses show one source per item.</summary>
    public static string Primary(CandidateSource sources)
    {
        for (var bit = 0; bit < Names.Length; bit++)
        {
            if (((int)sources & (1 << bit)) != 0) return Names[bit];
        }
        return "none";
    }
}

/// <summary>Decides whether an item may be shown to this user: NSFW preference, blocked authors, items already interacted with.</summary>
public sealed class EligibilityFilter
{
    private readonly ItemColumns _columns;
    private readonly bool _allowNsfw;
    private readonly int[] _blockedAuthors;
    private readonly IReadOnlySet<int> _excludedItems;

    /// <param name="columns">The catalog's item columns.</param>
    /// <param name="allowNsfw">Whether NSFW items may be shown.</param>
    /// <param name="blockedAuthors">Sorted author (user) indices the user blocked.</param>
    /// <param name="excludedItems">Items the user already interacted with or was already shown.</param>
    public EligibilityFilter(ItemColumns columns, bool allowNsfw, int[] blockedAuthors, IReadOnlySet<int> excludedItems)
    {
        _columns = columns;
        _allowNsfw = allowNsfw;
        _blockedAuthors = blockedAuthors;
        _excludedItems = excludedItems;
    }

    public bool IsEligible(int item)
    {
        if ((uint)item >= (uint)_columns.Count) return false;
        if (!_allowNsfw && _columns.Nsfw[item]) return false;
        if (_blockedAuthors.Length != 0 && Array.BinarySearch(_blockedAuthors, _columns.AuthorIndices[item]) >= 0) return false;
        return !_excludedItems.Contains(item);
    }
}

/// <summary>What candidate generation needs to know about the request.</summary>
public sealed record CandidateQuery(
    ReadOnlyMemory<float> QueryVector,
    EligibilityFilter Filter,
    byte RegionCode,
    byte LanguageCode)
{
    /// <summary>True when the user has no query vector (no history): only non-personal sources run.</summary>
    public bool IsColdStart => QueryVector.IsEmpty;

    /// <summary>The user's recent items, most recent first: seeds of the item-to-item source.</summary>
    public ReadOnlyMemory<int> RecentItems { get; init; }

    /// <summary>The user's social neighbourhood: authors of the social source.</summary>
    public SocialContext Social { get; init; } = SocialContext.Empty;

    /// <summary>Overrides <c>Retrieval:AnnCount</c> for this request (an experiment variant's).</summary>
    public int? AnnCount { get; init; }

    /// <summary>Overrides <c>Retrieval:PopularCount</c> for this request (an experiment variant's).</summary>
    public int? PopularCount { get; init; }
}

/// <summary>
/// The merged candidates of one request: unique items, each with its retrieval similarity and source flags, in pooled
/// arrays returned on <see cref="Dispose"/>.
/// </summary>
public sealed class CandidateSet : IDisposable
{
    private int[] _items;
    private float[] _scores;
    private CandidateSource[] _sources;
    private bool _disposed;

    internal CandidateSet(int capacity)
    {
        _items = ArrayPool<int>.Shared.Rent(capacity);
        _scores = ArrayPool<float>.Shared.Rent(capacity);
        _sources = ArrayPool<CandidateSource>.Shared.Rent(capacity);
    }

    public int Count { get; private set; }

    public int Capacity => _items.Length;

    public ReadOnlySpan<int> Items => _items.AsSpan(0, Count);

    /// <summary>The items as memory, for asynchronous fetches keyed by them.</summary>
    public ReadOnlyMemory<int> ItemsMemory => _items.AsMemory(0, Count);

    /// <summary>Similarity of each candidate to the user's query vector (0 when the user has none).</summary>
    public ReadOnlySpan<float> Scores => _scores.AsSpan(0, Count);

    public ReadOnlySpan<CandidateSource> Sources => _sources.AsSpan(0, Count);

    internal Span<float> WritableScores => _scores.AsSpan(0, Count);

    internal void Add(int item, float score, CandidateSource source)
    {
        _items[Count] = item;
        _scores[Count] = score;
        _sources[Count] = source;
        Count++;
    }

    internal void AddSource(int position, CandidateSource source) => _sources[position] |= source;

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        ArrayPool<int>.Shared.Return(_items);
        ArrayPool<float>.Shared.Return(_scores);
        ArrayPool<CandidateSource>.Shared.Return(_sources);
        _items = [];
        _scores = [];
        _sources = [];
        Count = 0;
    }
}

/// <summary>Stage 2 of the funnel: from the whole catalog to a few hundred eligible candidates.</summary>
public interface ICandidateGenerator
{
    ValueTask<CandidateSet> GenerateAsync(CandidateQuery query, CancellationToken cancellationToken);
}
