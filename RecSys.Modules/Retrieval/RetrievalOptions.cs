using System.ComponentModel.DataAnnotations;

namespace RecSys.Retrieval;

/// <summary>Options of the <c>Retrieval</c> section.</summary>
public sealed class RetrievalOptions
{
    public const string SectionName = "Retrieval";

    /// <summary>How many candidates the ANN (query vector) source returns: the K of the funnel.</summary>
    [Range(1, 5000)]
    public int AnnCount { get; set; } = 500;

    /// <summary>How many popular items join the candidates of a user with history.</summary>
    [Range(0, 5000)]
    public int PopularCount { get; set; } = 100;

    /// <summary>How many candidates a user without history (cold start) gets from the popular source.</summary>
    [Range(1, 5000)]
    public int ColdStartCount { get; set; } = 500;

    /// <summary>Quota of the item-to-item source: neighbours of the user's last few items.</summary>
    [Range(0, 5000)]
    public int ItemToItemCount { get; set; } = 100;

    /// <summary>How many of the user's most recent items seed the item-to-item source.</summary>
    [Range(1, 50)]
    public int ItemToItemSeeds { get; set; } = 3;

    /// <summary>Quota of the social source: recent items by friends, followed authors and group peers.</summary>
    [Range(0, 5000)]
    public int SocialCount { get; set; } = 100;

    /// <summary>Quota of the trending source (online store's trending list in the request's language).</summary>
    [Range(0, 5000)]
    public int TrendingCount { get; set; } = 100;

    /// <summary>Quota of the fresh source: newest items, the request's language first.</summary>
    [Range(0, 5000)]
    public int FreshCount { get; set; } = 50;

    /// <summary>Upper bound of merged candidates; sources fill it in priority order (ann, item2item, social, trending, fresh, popular).</summary>
    [Range(1, 10000)]
    public int MaxCandidates { get; set; } = 1000;

    /// <summary>How long the concurrent sources (item2item, social, trending, fresh) may take; a late source is left out and logged.</summary>
    [Range(1, 10000)]
    public int SourceTimeoutMilliseconds { get; set; } = 30;

    /// <summary><c>hnsw</c>: the ANN index serves (the exact scan until it is built); <c>exact</c>: always the exact scan.</summary>
    [Required, RegularExpression("^(hnsw|exact)$")]
    public string Index { get; set; } = "hnsw";

    /// <summary>HNSW links per node (2M on level 0).</summary>
    [Range(4, 64)]
    public int HnswM { get; set; } = 16;

    /// <summary>HNSW candidate list size while building.</summary>
    [Range(8, 2000)]
    public int HnswEfConstruction { get; set; } = 100;

    /// <summary>HNSW candidate list size while searching; raised to the requested count when smaller.</summary>
    [Range(8, 5000)]
    public int HnswEfSearch { get; set; } = 600;

    /// <summary>Threads that build the index (0: every core).</summary>
    [Range(0, 256)]
    public int HnswBuildThreads { get; set; }

    /// <summary>Seed of the index's level generation.</summary>
    public long HnswSeed { get; set; } = 42;

    /// <summary>
    /// Where built indexes are kept, named by a hash of the vectors and the build parameters, so a restart with the same
    /// vectors loads the index in a moment instead of rebuilding it. Empty: no cache.
    /// </summary>
    public string? IndexCacheDirectory { get; set; } = Path.Combine("data", "cache");

    internal bool UsesIndex => string.Equals(Index, "hnsw", StringComparison.Ordinal);
}
