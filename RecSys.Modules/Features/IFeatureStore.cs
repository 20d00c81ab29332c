using RecSys.Events;
using RecSys.Retrieval;

namespace RecSys.Features;

/// <summary>What the online store knows about a user right now.</summary>
public sealed class UserOnlineState
{
    public static UserOnlineState Empty { get; } = new([], new HashSet<int>(), 0);

    public UserOnlineState(int[] recentItems, IReadOnlySet<int> interactedItems, long lastEventUnixSeconds, IReadOnlySet<int>? seenItems = null)
    {
        RecentItems = recentItems;
        InteractedItems = interactedItems;
        LastEventUnixSeconds = lastEventUnixSeconds;
        SeenItems = seenItems ?? EmptySet;
    }

    private static readonly IReadOnlySet<int> EmptySet = new HashSet<int>();

    /// <summary>Items of the user's recent positive events, most recent first.</summary>
    public int[] RecentItems { get; }

    /// <summary>Every item the user clicked, liked, shared, dwelt on or hid: not recommended again.</summary>
    public IReadOnlySet<int> InteractedItems { get; }

    public long LastEventUnixSeconds { get; }

    /// <summary>Items served to the user within <see cref="FeaturesOptions.SeenWindowMinutes"/> (written by <see cref="IFeatureStore.MarkSeenAsync"/>).</summary>
    public IReadOnlySet<int> SeenItems { get; }

    public bool HasHistory => RecentItems.Length > 0;

    /// <summary>
    /// The query vector the store holds for the user (written off the request path by
    /// <see cref="IFeatureStore.RefreshQueryVectorsAsync"/>, read with the rest of the state), or null when it is
    /// missing or expired. Use it only through <see cref="TryGetQueryVector"/>, which checks that it belongs to the
    /// served item vectors and to this history.
    /// </summary>
    public float[]? StoredQueryVector { get; init; }

    /// <summary><see cref="QueryVectorTag.Of"/> of the item-vector version the stored vector was folded in against.</summary>
    public ulong StoredQueryVectorVersion { get; init; }

    /// <summary><see cref="LastEventUnixSeconds"/> of the history the stored vector was folded in from.</summary>
    public long StoredQueryVectorLastEvent { get; init; }

    /// <summary>
    /// Copies the stored query vector into <paramref name="destination"/> when it was folded in against
    /// <paramref name="embeddings"/> (same version and dimensions) from the history this state holds (same last event);
    /// false otherwise: the caller folds in from <see cref="RecentItems"/>. A model swap therefore never serves a vector
    /// from the old factors.
    /// </summary>
    public bool TryGetQueryVector(ItemEmbeddings embeddings, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        var stored = StoredQueryVector;
        if (stored is null || stored.Length != embeddings.Dimensions || destination.Length != stored.Length) return false;
        if (StoredQueryVectorLastEvent != LastEventUnixSeconds || StoredQueryVectorVersion != QueryVectorTag.Of(embeddings.Version)) return false;
        stored.CopyTo(destination);
        return true;
    }
}

/// <summary>Ties a stored query vector to the item vectors it was folded in against.</summary>
public static class QueryVectorTag
{
    /// <summary>64-bit FNV-1a of the item-vector version (UTF-16 code units): stable across processes and restarts.</summary>
    public static ulong Of(string version)
    {
        ArgumentNullException.ThrowIfNull(version);
        var hash = 14695981039346656037UL;
        foreach (var c in version)
        {
            hash = (hash ^ (byte)c) * 1099511628211UL;
            hash = (hash ^ (byte)(c >> 8)) * 1099511628211UL;
        }
        return hash;
    }
}

/// <summary>Counters of one item over a recent window (time buckets), aggregated over all users.</summary>
public readonly record struct ItemWindowCounts(int Impressions, int Clicks, int Likes, int DwellSeconds);

/// <summary>Counters of one item, aggregated over all users.</summary>
public readonly record struct ItemStats(int Impressions, int Clicks, int Likes, int Shares, int Hides, int DwellSeconds, float TrendScore);

/// <summary>The online feature store: per-user recent state and per-item counters, updated by events within seconds.</summary>
public interface IFeatureStore
{
    bool IsLoaded { get; }

    ValueTask<UserOnlineState> GetUserStateAsync(int userIndex, CancellationToken cancellationToken);

    /// <summary>Fetches the counters of many items at once (one round trip for a remote store).</summary>
    ValueTask GetItemStatsAsync(ReadOnlyMemory<int> items, Memory<ItemStats> destination, CancellationToken cancellationToken);

    /// <summary>
    /// Writes into <paramref name="destination"/> the items with the highest trend score (decayed positive events),
    /// best first, among items in the given language (<see cref="Catalog.Locales.Unknown"/>: all items); returns how
    /// many were written. May be served from a list refreshed every few seconds.
    /// </summary>
    ValueTask<int> GetTrendingAsync(byte languageCode, Memory<int> destination, CancellationToken cancellationToken);

    /// <summary>
    /// As <see cref="GetTrendingAsync"/>, but ranked by the positive events of users in the given region
    /// (<see cref="Catalog.Locales.RegionCode"/>); <see cref="Catalog.Locales.Unknown"/> gives the all-items list.
    /// </summary>
    ValueTask<int> GetTrendingInRegionAsync(byte regionCode, Memory<int> destination, CancellationToken cancellationToken);

    /// <summary>
    /// Fetches the counters of many items over the last <paramref name="window"/> (one round trip for a remote store),
    /// summed over the time buckets (<see cref="FeaturesOptions.CounterBucketMinutes"/>) that overlap it: at least the
    /// window, at most one bucket more. <paramref name="window"/> may not exceed <see cref="FeaturesOptions.CounterRetentionHours"/>.
    /// </summary>
    ValueTask GetItemWindowCountsAsync(ReadOnlyMemory<int> items, TimeSpan window, Memory<ItemWindowCounts> destination, CancellationToken cancellationToken);

    /// <summary>
    /// Folds in the query vectors of these users from their current recent history against <paramref name="embeddings"/>
    /// and stores them, tagged with the vectors' version and the history's last event, for
    /// <see cref="FeaturesOptions.QueryVectorTtlMinutes"/>; a user without a usable history has theirs removed. Called off
    /// the request path (by the event consumer) after <see cref="ApplyAsync"/> changed their history.
    /// </summary>
    ValueTask RefreshQueryVectorsAsync(ReadOnlyMemory<int> users, ItemEmbeddings embeddings, CancellationToken cancellationToken);

    /// <summary>Records that these items were served to the user at the given time; they stay in the seen set for the configured window.</summary>
    ValueTask MarkSeenAsync(int userIndex, ReadOnlyMemory<int> items, long unixSeconds, CancellationToken cancellationToken);

    /// <summary>Applies events in order. Used by seeding and, later, by the event consumers.</summary>
    ValueTask ApplyAsync(ReadOnlyMemory<Interaction> interactions, CancellationToken cancellationToken);

    /// <summary>Declares the store complete for serving (after the initial load).</summary>
    void MarkLoaded(int userCount, int itemCount);
}
