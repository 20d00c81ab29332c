using RecSys.Events;

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
}

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

    /// <summary>Records that these items were served to the user at the given time; they stay in the seen set for the configured window.</summary>
    ValueTask MarkSeenAsync(int userIndex, ReadOnlyMemory<int> items, long unixSeconds, CancellationToken cancellationToken);

    /// <summary>Applies events in order. Used by seeding and, later, by the event consumers.</summary>
    ValueTask ApplyAsync(ReadOnlyMemory<Interaction> interactions, CancellationToken cancellationToken);

    /// <summary>Declares the store complete for serving (after the initial load).</summary>
    void MarkLoaded(int userCount, int itemCount);
}
