using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;
using RecSys.Catalog;
using RecSys.Events;
using RecSys.Features.Common;
using RecSys.Retrieval;

namespace RecSys.Features.Memory;

/// <summary>
/// The embedded online store. User state is guarded by a lock per user; item counters are updated with interlocked
/// adds; the trend score uses forward decay (each event adds 2^((t - origin)/halfLife)) so reads need no rescan, and
/// the origin moves forward (every score scaled down alike) once it is <see cref="FeaturesOptions.TrendRescaleHalfLives"/>
/// old. Windowed counters live in one sparse table per time bucket, dropped after the retention.
/// </summary>
internal sealed class InMemoryFeatureStore(IOptions<FeaturesOptions> options, TimeProvider clock, ICatalog catalog) : IFeatureStore
{
    private sealed class UserState
    {
        public readonly Queue<int> Recent = new();
        public readonly HashSet<int> Interacted = [];
        public readonly Dictionary<int, long> Seen = [];
        public long LastEvent;
        public float[]? QueryVector;
        public ulong QueryVectorVersion;
        public long QueryVectorLastEvent;
        public long QueryVectorExpires;
    }

    private struct WindowCounts
    {
        public int Impressions, Clicks, Likes, Dwell;
    }

    /// <summary>The windowed counters of one time bucket: item -> counts, under the bucket's lock.</summary>
    private sealed class Bucket
    {
        public readonly Lock Gate = new();
        public readonly Dictionary<int, WindowCounts> Items = [];
    }

    private readonly ConcurrentDictionary<long, Bucket> _buckets = new();

    /// <summary>How many items a trending list keeps.</summary>
    internal const int TrendingListLength = 1000;

    private sealed record TrendingList(long ComputedAtTicks, int[] Items);

    /// <summary>Cached lists: key = language code, or 256 + region code.</summary>
    private readonly ConcurrentDictionary<int, TrendingList> _trending = new();

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
        /// <summary>Per user region (<see cref="Locales.Regions"/>): the trend score from that region's users' events.</summary>
        public readonly double[][] RegionTrend = Locales.Regions.Select(_ => new double[items]).ToArray();
    }

    private readonly Lock _trendGate = new();
    private long _trendOrigin = clock.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>The current decay origin (unix seconds); moves forward on a rescale.</summary>
    internal long TrendOrigin => Interlocked.Read(ref _trendOrigin);
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
            var now = clock.GetUtcNow().ToUnixTimeSeconds();
            var vector = user.QueryVector is { } qv && user.QueryVectorExpires > now ? qv : null;
            return ValueTask.FromResult(new UserOnlineState(recent, new HashSet<int>(user.Interacted), user.LastEvent, seen)
            {
                StoredQueryVector = vector, StoredQueryVectorVersion = user.QueryVectorVersion, StoredQueryVectorLastEvent = user.QueryVectorLastEvent,
            });
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

    public ValueTask<int> GetTrendingAsync(byte languageCode, Memory<int> destination, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Trending(languageCode, Locales.Unknown, destination.Span));

    public ValueTask<int> GetTrendingInRegionAsync(byte regionCode, Memory<int> destination, CancellationToken cancellationToken) =>
        ValueTask.FromResult(regionCode < Locales.Regions.Count ? Trending(Locales.Unknown, regionCode, destination.Span) : Trending(Locales.Unknown, Locales.Unknown, destination.Span));

    /// <summary>The cached list of one language (all regions' events) or of one region (all languages' items).</summary>
    private int Trending(byte languageCode, byte regionCode, Span<int> destination)
    {
        var key = regionCode == Locales.Unknown ? languageCode : 256 + regionCode;
        var now = clock.GetUtcNow().UtcTicks;
        var refresh = TimeSpan.FromSeconds(options.Value.TrendingRefreshSeconds).Ticks;
        if (!_trending.TryGetValue(key, out var list) || now - list.ComputedAtTicks >= refresh)
        {
            var tables = _tables;
            list = new TrendingList(now, ComputeTrending(regionCode == Locales.Unknown ? tables.Trend : tables.RegionTrend[regionCode], languageCode));
            _trending[key] = list;
        }
        var n = Math.Min(destination.Length, list.Items.Length);
        list.Items.AsSpan(0, n).CopyTo(destination);
        return n;
    }

    private int[] ComputeTrending(double[] trend, byte languageCode)
    {
        // Forward decay scales every item by the same factor at read time, so the raw sums rank items correctly.
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
        // Under the trend lock: a rescale moves the origin and the scores together.
        lock (_trendGate)
        {
            var decay = Math.Pow(2, -(clock.GetUtcNow().ToUnixTimeSeconds() - _trendOrigin) / (options.Value.TrendHalfLifeHours * 3600));
            for (var i = 0; i < ids.Length; i++)
            {
                var item = ids[i];
                dest[i] = (uint)item < (uint)t.Clicks.Length
                    ? new ItemStats(t.Impressions[item], t.Clicks[item], t.Likes[item], t.Shares[item], t.Hides[item], t.Dwell[item], (float)(t.Trend[item] * decay))
                    : default;
            }
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask GetItemWindowCountsAsync(ReadOnlyMemory<int> items, TimeSpan window, Memory<ItemWindowCounts> destination, CancellationToken cancellationToken)
    {
        var (first, last) = WindowBuckets.Range(options.Value, clock.GetUtcNow().ToUnixTimeSeconds(), window);
        var ids = items.Span;
        var dest = destination.Span[..ids.Length];
        dest.Clear();
        for (var b = first; b <= last; b++)
        {
            if (!_buckets.TryGetValue(b, out var bucket)) continue;
            lock (bucket.Gate)
            {
                for (var i = 0; i < ids.Length; i++)
                {
                    if (!bucket.Items.TryGetValue(ids[i], out var c)) continue;
                    var d = dest[i];
                    dest[i] = new ItemWindowCounts(d.Impressions + c.Impressions, d.Clicks + c.Clicks, d.Likes + c.Likes, d.DwellSeconds + c.Dwell);
                }
            }
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask RefreshQueryVectorsAsync(ReadOnlyMemory<int> users, ItemEmbeddings embeddings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        var o = options.Value;
        var tag = QueryVectorTag.Of(embeddings.Version);
        var expires = clock.GetUtcNow().ToUnixTimeSeconds() + (o.QueryVectorTtlMinutes * 60L);
        var t = _tables;
        foreach (var u in users.Span)
        {
            if ((uint)u >= (uint)t.Users.Length || t.Users[u] is not { } user) continue;
            int[] recent;
            long last;
            lock (user)
            {
                recent = user.Recent.ToArray();
                last = user.LastEvent;
            }
            Array.Reverse(recent);
            var vector = new float[embeddings.Dimensions];
            var ok = UserEmbedding.FoldIn(embeddings, recent, o.QueryVectorHistory, vector);
            lock (user)
            {
                if (user.LastEvent != last) continue; // changed meanwhile: the next refresh writes it
                user.QueryVector = ok ? vector : null;
                user.QueryVectorVersion = tag;
                user.QueryVectorLastEvent = last;
                user.QueryVectorExpires = expires;
            }
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask ApplyAsync(ReadOnlyMemory<Interaction> interactions, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var halfLifeSeconds = o.TrendHalfLifeHours * 3600;
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        RescaleIfDue(now);
        var oldestBucket = WindowBuckets.Oldest(o, now);
        Bucket? bucket = null;
        var bucketIndex = long.MinValue;
        foreach (var e in interactions.Span)
        {
            var t = EnsureCapacity(e.UserIndex + 1, e.ItemIndex + 1);
            var b = WindowBuckets.Of(o, e.UnixSeconds);
            if (b >= oldestBucket && e.Type is EventType.Impression or EventType.Click or EventType.Like or EventType.Dwell)
            {
                if (b != bucketIndex)
                {
                    bucket = _buckets.GetOrAdd(b, static _ => new Bucket());
                    bucketIndex = b;
                }
                lock (bucket!.Gate)
                {
                    ref var c = ref CollectionsMarshal.GetValueRefOrAddDefault(bucket.Items, e.ItemIndex, out _);
                    switch (e.Type)
                    {
                        case EventType.Impression: c.Impressions++; break;
                        case EventType.Click: c.Clicks++; break;
                        case EventType.Like: c.Likes++; break;
                        default: c.Dwell += (int)Math.Clamp(e.Value, 0, 86_400); break;
                    }
                }
            }
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

            if (e.IsPositive)
            {
                var region = StoreLocales.UserRegion(catalog, e.UserIndex);
                lock (_trendGate)
                {
                    var amount = Math.Pow(2, (e.UnixSeconds - _trendOrigin) / halfLifeSeconds);
                    var current = _tables; // growth swaps the tables under this lock: never add to a replaced one
                    current.Trend[e.ItemIndex] += amount;
                    if (region < current.RegionTrend.Length) current.RegionTrend[region][e.ItemIndex] += amount;
                }
            }
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
        foreach (var old in _buckets.Keys)
        {
            if (old < oldestBucket) _buckets.TryRemove(old, out _);
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Forward-decay rescale: once the origin is <see cref="FeaturesOptions.TrendRescaleHalfLives"/> old, moves it to
    /// <paramref name="now"/> and multiplies every score by 2^(-(now - origin)/halfLife), so decayed values are unchanged.
    /// </summary>
    internal bool RescaleIfDue() => RescaleIfDue(clock.GetUtcNow().ToUnixTimeSeconds());

    internal bool RescaleIfDue(long now)
    {
        var o = options.Value;
        var halfLifeSeconds = o.TrendHalfLifeHours * 3600;
        lock (_trendGate)
        {
            if ((now - _trendOrigin) / halfLifeSeconds < o.TrendRescaleHalfLives) return false;
            var factor = Math.Pow(2, -(now - _trendOrigin) / halfLifeSeconds);
            var t = _tables;
            Scale(t.Trend, factor);
            foreach (var region in t.RegionTrend) Scale(region, factor);
            Interlocked.Exchange(ref _trendOrigin, now);
            return true;
        }

        static void Scale(double[] scores, double factor) => System.Numerics.Tensors.TensorPrimitives.Multiply(scores, factor, scores);
    }

    private static int LastOf(Queue<int> queue)
    {
        var last = -1;
        foreach (var x in queue) last = x;
        return last;
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
            lock (_trendGate)
            {
                Array.Copy(t.Trend, grown.Trend, t.Trend.Length);
                for (var r = 0; r < t.RegionTrend.Length; r++) Array.Copy(t.RegionTrend[r], grown.RegionTrend[r], t.RegionTrend[r].Length);
                _tables = grown;
            }
            return grown;
        }
    }
}
