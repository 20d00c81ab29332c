using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using RecSys.Catalog;
using RecSys.Events;

namespace RecSys.Features.Memory;

/// <summary>
/// The embedded online store. User state is guarded by a lock per user; item counters are updated with interlocked
/// adds; the trend score uses forward decay (each event adds 2^((t - origin)/halfLife)) so reads need no rescan.
/// </summary>
internal sealed class InMemoryFeatureStore(IOptions<FeaturesOptions> options, TimeProvider clock, ICatalog catalog) : IFeatureStore
{
    private sealed class UserState
    {
        public readonly Queue<int> Recent = new();
        public readonly HashSet<int> Interacted = [];
        public readonly Dictionary<int, long> Seen = [];
        public long LastEvent;
    }

    /// <summary>How many items a trending list keeps.</summary>
    internal const int TrendingListLength = 1000;

    private sealed record TrendingList(long ComputedAtTicks, int[] Items);

    private readonly ConcurrentDictionary<byte, TrendingList> _trending = new();

    private sealed class Tables(int users, int items)
    {
        public readonly UserState?[] Users = new UserState?[users];
        public readonly int[] Impressions = new int[items];
        public readonly int[] Clicks = new int[items];
        public readonly int[] Likes = new int[items];
        public readonly int[] Shares = new int[items];
        public readonly int[] Hides = new int[items];
        public readonly int[] Dwell = new int[items];
        public readonly double[] Trend = new double[items];
    }

    private readonly long _trendOrigin = clock.GetUtcNow().ToUnixTimeSeconds();
    private readonly Lock _grow = new();
    private volatile Tables _tables = new(0, 0);
    private volatile bool _loaded;

    public bool IsLoaded => _loaded;

    public void MarkLoaded(int userCount, int itemCount)
    {
        EnsureCapacity(userCount, itemCount);
        _loaded = true;
    }

    public ValueTask<UserOnlineState> GetUserStateAsync(int userIndex, CancellationToken cancellationToken)
    {
        var tables = _tables;
        if ((uint)userIndex >= (uint)tables.Users.Length || tables.Users[userIndex] is not { } user)
        {
            return ValueTask.FromResult(UserOnlineState.Empty);
        }
        var seenSince = clock.GetUtcNow().ToUnixTimeSeconds() - (options.Value.SeenWindowMinutes * 60L);
        lock (user)
        {
            var recent = user.Recent.ToArray();
            Array.Reverse(recent); // the queue holds oldest first
            HashSet<int>? seen = null;
            if (user.Seen.Count > 0)
            {
                seen = [];
                foreach (var (item, at) in user.Seen)
                {
                    if (at >= seenSince) seen.Add(item);
                    else user.Seen.Remove(item); // expired; removing while enumerating is allowed for Dictionary
                }
            }
            return ValueTask.FromResult(new UserOnlineState(recent, new HashSet<int>(user.Interacted), user.LastEvent, seen));
        }
    }

    public ValueTask MarkSeenAsync(int userIndex, ReadOnlyMemory<int> items, long unixSeconds, CancellationToken cancellationToken)
    {
        var t = EnsureCapacity(userIndex + 1, 0);
        var user = t.Users[userIndex] ?? Interlocked.CompareExchange(ref t.Users[userIndex], new UserState(), null) ?? t.Users[userIndex]!;
        lock (user)
        {
            foreach (var item in items.Span) user.Seen[item] = unixSeconds;
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask<int> GetTrendingAsync(byte languageCode, Memory<int> destination, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcTicks;
        var refresh = TimeSpan.FromSeconds(options.Value.TrendingRefreshSeconds).Ticks;
        if (!_trending.TryGetValue(languageCode, out var list) || now - list.ComputedAtTicks >= refresh)
        {
            list = new TrendingList(now, ComputeTrending(languageCode));
            _trending[languageCode] = list;
        }
        var n = Math.Min(destination.Length, list.Items.Length);
        list.Items.AsSpan(0, n).CopyTo(destination.Span);
        return ValueTask.FromResult(n);
    }

    private int[] ComputeTrending(byte languageCode)
    {
        // Forward decay scales every item by the same factor at read time, so the raw sums rank items correctly.
        var trend = _tables.Trend;
        var languages = catalog.Columns.LanguageCodes;
        var scored = new List<(double Score, int Item)>();
        for (var item = 0; item < trend.Length; item++)
        {
            var score = Volatile.Read(ref trend[item]);
            if (score <= 0) continue;
            if (languageCode != Locales.Unknown && (item >= languages.Length || languages[item] != languageCode)) continue;
            scored.Add((score, item));
        }
        scored.Sort((a, b) => b.Score != a.Score ? b.Score.CompareTo(a.Score) : a.Item.CompareTo(b.Item));
        return scored.Take(TrendingListLength).Select(x => x.Item).ToArray();
    }

    public ValueTask GetItemStatsAsync(ReadOnlyMemory<int> items, Memory<ItemStats> destination, CancellationToken cancellationToken)
    {
        var t = _tables;
        var ids = items.Span;
        var dest = destination.Span;
        var decay = Math.Pow(2, -(clock.GetUtcNow().ToUnixTimeSeconds() - _trendOrigin) / (options.Value.TrendHalfLifeHours * 3600));
        for (var i = 0; i < ids.Length; i++)
        {
            var item = ids[i];
            dest[i] = (uint)item < (uint)t.Clicks.Length
                ? new ItemStats(t.Impressions[item], t.Clicks[item], t.Likes[item], t.Shares[item], t.Hides[item], t.Dwell[item], (float)(Volatile.Read(ref t.Trend[item]) * decay))
                : default;
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask ApplyAsync(ReadOnlyMemory<Interaction> interactions, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var halfLifeSeconds = o.TrendHalfLifeHours * 3600;
        foreach (var e in interactions.Span)
        {
            var t = EnsureCapacity(e.UserIndex + 1, e.ItemIndex + 1);
            switch (e.Type)
            {
                case EventType.Impression: Interlocked.Increment(ref t.Impressions[e.ItemIndex]); break;
                case EventType.Click: Interlocked.Increment(ref t.Clicks[e.ItemIndex]); break;
                case EventType.Like: Interlocked.Increment(ref t.Likes[e.ItemIndex]); break;
                case EventType.Share: Interlocked.Increment(ref t.Shares[e.ItemIndex]); break;
                case EventType.Hide: Interlocked.Increment(ref t.Hides[e.ItemIndex]); break;
                case EventType.Dwell: Interlocked.Add(ref t.Dwell[e.ItemIndex], (int)Math.Clamp(e.Value, 0, 86_400)); break;
                case EventType.View: break;
                default: throw new ArgumentException($"Unknown event type {e.Type}.", nameof(interactions));
            }
            if (e.Type == EventType.Impression || e.Type == EventType.View) continue;

            if (e.IsPositive) AddTrend(ref t.Trend[e.ItemIndex], Math.Pow(2, (e.UnixSeconds - _trendOrigin) / halfLifeSeconds));
            var user = t.Users[e.UserIndex] ?? Interlocked.CompareExchange(ref t.Users[e.UserIndex], new UserState(), null) ?? t.Users[e.UserIndex]!;
            lock (user)
            {
                user.Interacted.Add(e.ItemIndex);
                user.LastEvent = Math.Max(user.LastEvent, e.UnixSeconds);
                // A click followed by a like and a dwell on the same item is one history entry.
                if (e.IsPositive && (user.Recent.Count == 0 || LastOf(user.Recent) != e.ItemIndex))
                {
                    user.Recent.Enqueue(e.ItemIndex);
                    while (user.Recent.Count > o.RecentHistoryLength) user.Recent.Dequeue();
                }
            }
        }
        return ValueTask.CompletedTask;
    }

    private static int LastOf(Queue<int> queue)
    {
        var last = -1;
        foreach (var x in queue) last = x;
        return last;
    }

    private static void AddTrend(ref double target, double amount)
    {
        double seen, next;
        do
        {
            seen = Volatile.Read(ref target);
            next = seen + amount;
        }
        while (Interlocked.CompareExchange(ref target, next, seen) != seen);
    }

    private Tables EnsureCapacity(int users, int items)
    {
        var t = _tables;
        if (users <= t.Users.Length && items <= t.Clicks.Length) return t;
        lock (_grow)
        {
            t = _tables;
            if (users <= t.Users.Length && items <= t.Clicks.Length) return t;
            // Growth happens at load time; doubling keeps it rare.
            var grown = new Tables(Math.Max(users, t.Users.Length * 2), Math.Max(items, t.Clicks.Length * 2));
            Array.Copy(t.Users, grown.Users, t.Users.Length);
            Array.Copy(t.Impressions, grown.Impressions, t.Impressions.Length);
            Array.Copy(t.Clicks, grown.Clicks, t.Clicks.Length);
            Array.Copy(t.Likes, grown.Likes, t.Likes.Length);
            Array.Copy(t.Shares, grown.Shares, t.Shares.Length);
            Array.Copy(t.Hides, grown.Hides, t.Hides.Length);
            Array.Copy(t.Dwell, grown.Dwell, t.Dwell.Length);
            Array.Copy(t.Trend, grown.Trend, t.Trend.Length);
            _tables = grown;
            return grown;
        }
    }
}
