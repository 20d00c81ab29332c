using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RecSys.Catalog;
using RecSys.Events;
using RecSys.Features.Redis.Resp;

namespace RecSys.Features.Redis;

/// <summary>
/// The online store in Redis, with the observable behaviour of the in-memory store (same counters, history rule,
/// trend decay, trending order and seen window). Key layout (prefix <c>rs:</c> by default), documented in the README:
/// <list type="bullet">
/// <item><c>rs:u:{user}:recent</c> list of the user's recent positive items, most recent first, capped</item>
/// <item><c>rs:u:{user}:acted</c> set of every item the user interacted with</item>
/// <item><c>rs:u:{user}</c> hash: <c>last</c> (last event, unix seconds), <c>head</c> (newest history item)</item>
/// <item><c>rs:u:{user}:seen</c> sorted set item -> unix seconds served, expiring after the seen window</item>
/// <item><c>rs:i:{item}</c> hash of all-time counters: <c>imp clk lik shr hid dwl</c></item>
/// <item><c>rs:trend:all</c>, <c>rs:trend:{language}</c> sorted sets of forward-decayed positive events</item>
/// <item><c>rs:meta</c> hash: <c>trend_origin</c> (unix seconds of the decay origin), <c>loaded_users</c>, <c>loaded_items</c></item>
/// </list>
/// Forward decay: an event at t adds 2^((t - origin)/halfLife) to its item's score, so scores never need rewriting
/// and reads multiply by 2^(-(now - origin)/halfLife). With a 24 h half-life the sums stay finite for about 2.7
/// years after the origin.
/// </summary>
internal sealed partial class RedisFeatureStore(
    RedisClient redis,
    IOptions<FeaturesOptions> options,
    IOptions<OnlineStoreOptions> storeOptions,
    TimeProvider clock,
    ICatalog catalog,
    ILogger<RedisFeatureStore> logger) : IFeatureStore
{
    /// <summary>How many events one write batch covers when applying a long log.</summary>
    internal const int ApplyChunk = 4096; // small enough that one write batch finishes well within the command timeout

    private static readonly byte[][] CounterFields = ["imp"u8.ToArray(), "clk"u8.ToArray(), "lik"u8.ToArray(), "shr"u8.ToArray(), "hid"u8.ToArray(), "dwl"u8.ToArray()];

    private readonly byte[] _userPrefix = Encoding.ASCII.GetBytes(storeOptions.Value.RedisKeyPrefix + "u:");
    private readonly byte[] _itemPrefix = Encoding.ASCII.GetBytes(storeOptions.Value.RedisKeyPrefix + "i:");
    private readonly byte[] _trendAll = Encoding.ASCII.GetBytes(storeOptions.Value.RedisKeyPrefix + "trend:all");
    private readonly byte[][] _trendByLanguage = Locales.Languages.Select(l => Encoding.ASCII.GetBytes(storeOptions.Value.RedisKeyPrefix + "trend:" + l)).ToArray();
    private readonly byte[] _meta = Encoding.ASCII.GetBytes(storeOptions.Value.RedisKeyPrefix + "meta");
    private readonly System.Collections.Concurrent.ConcurrentDictionary<byte, (long At, int[] Items)> _trending = new();
    private long _trendOrigin = long.MinValue;
    private volatile bool _loaded;

    public bool IsLoaded => _loaded;

    /// <summary>Runs a read batch under the per-read budget (<see cref="OnlineStoreOptions.RedisReadTimeoutMilliseconds"/>) as well as the caller's token.</summary>
    private async Task<RespReplies> ReadAsync(RespBatch batch, CancellationToken cancellationToken)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var timeout = storeOptions.Value.RedisReadTimeoutMilliseconds;
        budget.CancelAfter(timeout);
        try
        {
            return await redis.ExecuteAsync(batch, budget.Token);
        }
        catch (OperationCanceledException) when (budget.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new RedisTimeoutException($"Redis at {redis.Endpoint} did not answer an online-store read within Stores:RedisReadTimeoutMilliseconds ({timeout} ms).");
        }
    }

    /// <summary>Reads the load marker <see cref="MarkLoaded"/> left in Redis (by this process or by the <c>load</c> verb).</summary>
    internal async Task<bool> RefreshLoadedAsync(CancellationToken cancellationToken)
    {
        using var batch = new RespBatch();
        batch.Command("HGET"u8, 3).Arg(_meta).Arg("loaded_items"u8);
        using var replies = await redis.ExecuteAsync(batch, cancellationToken);
        _loaded = !replies[0].IsNull;
        return _loaded;
    }

    public void MarkLoaded(int userCount, int itemCount)
    {
        // The marker lives in Redis so that other instances (and restarts) see a loaded store.
        using var batch = new RespBatch();
        batch.Command("HSET"u8, 6).Arg(_meta).Arg("loaded_users"u8).Arg(userCount).Arg("loaded_items"u8).Arg(itemCount);
        using var replies = redis.ExecuteAsync(batch, CancellationToken.None).GetAwaiter().GetResult();
        replies[0].ThrowIfError();
        _loaded = true;
    }

    public async ValueTask<UserOnlineState> GetUserStateAsync(int userIndex, CancellationToken cancellationToken)
    {
        var seenSince = clock.GetUtcNow().ToUnixTimeSeconds() - (options.Value.SeenWindowMinutes * 60L);
        using var batch = new RespBatch(256);
        batch.Command("LRANGE"u8, 4).Arg(_userPrefix, userIndex, ":recent"u8).Arg(0).Arg(options.Value.RecentHistoryLength - 1);
        batch.Command("SMEMBERS"u8, 2).Arg(_userPrefix, userIndex, ":acted"u8);
        batch.Command("HGET"u8, 3).Arg(_userPrefix, userIndex).Arg("last"u8);
        batch.Command("ZRANGEBYSCORE"u8, 4).Arg(_userPrefix, userIndex, ":seen"u8).Arg(seenSince).Arg("+inf"u8);
        using var replies = await ReadAsync(batch, cancellationToken);
        var recentReply = replies[0];
        var recent = new int[recentReply.Count];
        var i = 0;
        foreach (var v in recentReply) recent[i++] = (int)v.AsInt64();
        var acted = ReadSet(replies[1]);
        var last = replies[2].IsNull ? 0 : replies[2].AsInt64();
        var seen = ReadSet(replies[3]);
        if (recent.Length == 0 && acted.Count == 0 && replies[2].IsNull && seen.Count == 0) return UserOnlineState.Empty;
        return new UserOnlineState(recent, acted, last, seen);
    }

    private static HashSet<int> ReadSet(RespValue reply)
    {
        var set = new HashSet<int>(reply.Count);
        foreach (var v in reply) set.Add((int)v.AsInt64());
        return set;
    }

    public async ValueTask MarkSeenAsync(int userIndex, ReadOnlyMemory<int> items, long unixSeconds, CancellationToken cancellationToken)
    {
        if (items.IsEmpty) return;
        var window = options.Value.SeenWindowMinutes * 60L;
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        using var batch = new RespBatch(64 + (items.Length * 24));
        batch.Command("ZADD"u8, 2 + (2 * items.Length)).Arg(_userPrefix, userIndex, ":seen"u8);
        foreach (var item in items.Span) batch.Arg(unixSeconds).Arg(item);
        // Entries older than the window can never be read again: drop them, and let an idle user's set expire.
        batch.Command("ZREMRANGEBYSCORE"u8, 4).Arg(_userPrefix, userIndex, ":seen"u8).Arg("-inf"u8).Arg("(" + (now - window).ToString(System.Globalization.CultureInfo.InvariantCulture));
        batch.Command("EXPIRE"u8, 3).Arg(_userPrefix, userIndex, ":seen"u8).Arg(window + 60);
        using var replies = await redis.ExecuteAsync(batch, cancellationToken);
        for (var r = 0; r < replies.Count; r++) replies[r].ThrowIfError();
    }

    public async ValueTask GetItemStatsAsync(ReadOnlyMemory<int> items, Memory<ItemStats> destination, CancellationToken cancellationToken)
    {
        var n = items.Length;
        if (n == 0) return;
        var origin = await TrendOriginAsync(cancellationToken);
        // One round trip: an HMGET per item and one ZMSCORE for all their trend scores.
        using var batch = new RespBatch(64 + (n * 48));
        var ids = items.Span;
        for (var i = 0; i < n; i++)
        {
            batch.Command("HMGET"u8, 2 + CounterFields.Length).Arg(_itemPrefix, ids[i]);
            foreach (var field in CounterFields) batch.Arg(field);
        }
        batch.Command("ZMSCORE"u8, 2 + n).Arg(_trendAll);
        for (var i = 0; i < n; i++) batch.Arg(ids[i]);
        using var replies = await ReadAsync(batch, cancellationToken);

        var decay = Math.Pow(2, -(clock.GetUtcNow().ToUnixTimeSeconds() - origin) / (options.Value.TrendHalfLifeHours * 3600));
        var dest = destination.Span;
        var trend = replies[n].GetEnumerator();
        Span<long> c = stackalloc long[6];
        for (var i = 0; i < n; i++)
        {
            var k = 0;
            foreach (var v in replies[i]) c[k++] = v.AsInt64();
            trend.MoveNext();
            dest[i] = new ItemStats((int)c[0], (int)c[1], (int)c[2], (int)c[3], (int)c[4], (int)c[5], (float)(trend.Current.AsDouble() * decay));
        }
    }

    public async ValueTask<int> GetTrendingAsync(byte languageCode, Memory<int> destination, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcTicks;
        var refresh = TimeSpan.FromSeconds(options.Value.TrendingRefreshSeconds).Ticks;
        if (!_trending.TryGetValue(languageCode, out var list) || now - list.At >= refresh)
        {
            list = (now, await ReadTrendingAsync(languageCode, cancellationToken));
            _trending[languageCode] = list;
        }
        var count = Math.Min(destination.Length, list.Items.Length);
        list.Items.AsSpan(0, count).CopyTo(destination.Span);
        return count;
    }

    private async Task<int[]> ReadTrendingAsync(byte languageCode, CancellationToken cancellationToken)
    {
        const int length = 1000; // as the in-memory store
        using var batch = new RespBatch(128);
        var key = languageCode < _trendByLanguage.Length ? _trendByLanguage[languageCode] : _trendAll;
        // A little more than needed, so ties at the cut can be ordered as the in-memory store orders them (item ascending).
        batch.Command("ZREVRANGE"u8, 5).Arg(key).Arg(0).Arg(length + 99).Arg("WITHSCORES"u8);
        using var replies = await ReadAsync(batch, cancellationToken);
        var reply = replies[0];
        var scored = new List<(double Score, int Item)>(reply.Count / 2);
        var e = reply.GetEnumerator();
        while (e.MoveNext())
        {
            var item = (int)e.Current.AsInt64();
            e.MoveNext();
            var score = e.Current.AsDouble();
            if (score > 0) scored.Add((score, item));
        }
        scored.Sort((a, b) => b.Score != a.Score ? b.Score.CompareTo(a.Score) : a.Item.CompareTo(b.Item));
        return scored.Take(length).Select(x => x.Item).ToArray();
    }

    /// <summary>The decay origin shared by every writer and reader: set once in <c>rs:meta</c>, then cached.</summary>
    private async ValueTask<long> TrendOriginAsync(CancellationToken cancellationToken)
    {
        var origin = Interlocked.Read(ref _trendOrigin);
        if (origin != long.MinValue) return origin;
        using var batch = new RespBatch(128);
        batch.Command("HSETNX"u8, 4).Arg(_meta).Arg("trend_origin"u8).Arg(clock.GetUtcNow().ToUnixTimeSeconds());
        batch.Command("HGET"u8, 3).Arg(_meta).Arg("trend_origin"u8);
        using var replies = await redis.ExecuteAsync(batch, cancellationToken);
        origin = replies[1].AsInt64();
        Interlocked.Exchange(ref _trendOrigin, origin);
        return origin;
    }

    private sealed class UserDelta
    {
        public int Head = -1;
        public long Last;
        public readonly List<int> Pushes = [];
        public readonly HashSet<int> Acted = [];
    }

    public async ValueTask ApplyAsync(ReadOnlyMemory<Interaction> interactions, CancellationToken cancellationToken)
    {
        for (var start = 0; start < interactions.Length; start += ApplyChunk)
        {
            await ApplyChunkAsync(interactions.Slice(start, Math.Min(ApplyChunk, interactions.Length - start)), cancellationToken);
        }
    }

    private async Task ApplyChunkAsync(ReadOnlyMemory<Interaction> chunk, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var origin = await TrendOriginAsync(cancellationToken);
        var halfLifeSeconds = o.TrendHalfLifeHours * 3600;
        var counters = new Dictionary<int, long[]>();
        var trend = new Dictionary<int, double>();
        var users = new Dictionary<int, UserDelta>();
        foreach (var e in chunk.Span)
        {
            var field = e.Type switch
            {
                EventType.Impression => 0,
                EventType.Click => 1,
                EventType.Like => 2,
                EventType.Share => 3,
                EventType.Hide => 4,
                EventType.Dwell => 5,
                EventType.View => -1,
                _ => throw new ArgumentException($"Unknown event type {e.Type}.", nameof(chunk)),
            };
            if (field >= 0)
            {
                if (!counters.TryGetValue(e.ItemIndex, out var c)) counters[e.ItemIndex] = c = new long[6];
                c[field] += field == 5 ? (int)Math.Clamp(e.Value, 0, 86_400) : 1;
            }
            if (e.Type is EventType.Impression or EventType.View) continue;
            if (e.IsPositive) trend[e.ItemIndex] = trend.GetValueOrDefault(e.ItemIndex) + Math.Pow(2, (e.UnixSeconds - origin) / halfLifeSeconds);
            if (!users.ContainsKey(e.UserIndex)) users[e.UserIndex] = new UserDelta();
        }

        // Read what the rule "a new history entry only when the item differs from the newest one" needs.
        var userIds = users.Keys.ToArray();
        if (userIds.Length > 0)
        {
            using var read = new RespBatch(userIds.Length * 32);
            foreach (var u in userIds) read.Command("HMGET"u8, 4).Arg(_userPrefix, u).Arg("head"u8).Arg("last"u8);
            using var current = await redis.ExecuteAsync(read, cancellationToken);
            for (var i = 0; i < userIds.Length; i++)
            {
                var d = users[userIds[i]];
                var reply = current[i];
                d.Head = reply[0].IsNull ? -1 : (int)reply[0].AsInt64();
                d.Last = reply[1].IsNull ? 0 : reply[1].AsInt64();
            }
        }
        foreach (var e in chunk.Span)
        {
            if (e.Type is EventType.Impression or EventType.View) continue;
            var d = users[e.UserIndex];
            d.Acted.Add(e.ItemIndex);
            d.Last = Math.Max(d.Last, e.UnixSeconds);
            if (e.IsPositive && d.Head != e.ItemIndex)
            {
                d.Pushes.Add(e.ItemIndex);
                d.Head = e.ItemIndex;
            }
        }

        using var write = new RespBatch(64 * 1024);
        var languages = catalog.Columns.LanguageCodes;
        foreach (var (item, c) in counters)
        {
            for (var f = 0; f < c.Length; f++)
            {
                if (c[f] != 0) write.Command("HINCRBY"u8, 4).Arg(_itemPrefix, item).Arg(CounterFields[f]).Arg(c[f]);
            }
        }
        foreach (var (item, amount) in trend)
        {
            write.Command("ZINCRBY"u8, 4).Arg(_trendAll).Arg(amount).Arg(item);
            var language = (uint)item < (uint)languages.Length ? languages[item] : Locales.Unknown;
            if (language < _trendByLanguage.Length) write.Command("ZINCRBY"u8, 4).Arg(_trendByLanguage[language]).Arg(amount).Arg(item);
        }
        foreach (var (user, d) in users)
        {
            write.Command("SADD"u8, 2 + d.Acted.Count).Arg(_userPrefix, user, ":acted"u8);
            foreach (var item in d.Acted) write.Arg(item);
            if (d.Pushes.Count > 0)
            {
                write.Command("LPUSH"u8, 2 + d.Pushes.Count).Arg(_userPrefix, user, ":recent"u8);
                foreach (var item in d.Pushes) write.Arg(item);
                write.Command("LTRIM"u8, 4).Arg(_userPrefix, user, ":recent"u8).Arg(0).Arg(o.RecentHistoryLength - 1);
            }
            write.Command("HSET"u8, 6).Arg(_userPrefix, user).Arg("last"u8).Arg(d.Last).Arg("head"u8).Arg(d.Head);
        }
        if (write.Count == 0) return;
        using var replies = await redis.ExecuteAsync(write, cancellationToken);
        for (var r = 0; r < replies.Count; r++)
        {
            if (replies[r].IsError)
            {
                LogWriteFailed(logger, replies[r].ErrorMessage);
                replies[r].ThrowIfError();
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Redis refused an online-store write: {Error}")]
    private static partial void LogWriteFailed(ILogger logger, string error);
}
