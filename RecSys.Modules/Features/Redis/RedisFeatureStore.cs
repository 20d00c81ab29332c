using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RecSys.Catalog;
using RecSys.Events;
using RecSys.Features.Common;
using RecSys.Features.Redis.Resp;
using RecSys.Retrieval;

namespace RecSys.Features.Redis;

/// <summary>
/// The online store in Redis, with the observable behaviour of the in-memory store (same counters, history rule,
/// trend decay, trending order and seen window). Key layout (prefix <c>rs:</c> by default), documented in the README:
/// <list type="bullet">
/// <item><c>rs:u:{user}:recent</c> list of the user's recent positive items, most recent first, capped</item>
/// <item><c>rs:u:{user}:acted</c> set of every item the user interacted with</item>
/// <item><c>rs:u:{user}</c> hash: <c>last</c> (last event, unix seconds), <c>head</c> (newest history item)</item>
/// <item><c>rs:u:{user}:seen</c> sorted set item -> unix seconds served, expiring after the seen window</item>
/// <item><c>rs:u:{user}:qv</c> string: the user's query vector (header + float32 little-endian), with a TTL</item>
/// <item><c>rs:i:{item}</c> hash of all-time counters: <c>imp clk lik shr hid dwl</c></item>
/// <item><c>rs:ib:{bucket}</c> hash of one time bucket's counters, field <c>{item}:{imp|clk|lik|dwl}</c>, expiring with the retention</item>
/// <item><c>rs:trend:all</c>, <c>rs:trend:{language}</c> (item language), <c>rs:trend:r:{region}</c> (user region) sorted sets of forward-decayed positive events</item>
/// <item><c>rs:meta</c> hash: <c>trend_origin</c> (unix seconds of the decay origin), <c>loaded_users</c>, <c>loaded_items</c></item>
/// </list>
/// Forward decay: an event at t adds 2^((t - origin)/halfLife) to its item's score, so scores never need rewriting
/// and reads multiply by 2^(-(now - origin)/halfLife). Scores are doubles: a term overflows 1024 half-lives after the
/// origin (2.8 years at 24 h), so a writer moves the origin forward every <see cref="FeaturesOptions.TrendRescaleHalfLives"/>
/// (<see cref="RescaleIfDueAsync"/>). Writers and readers see the origin and the scores atomically (MULTI/EXEC).
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
    private readonly byte[] _bucketPrefix = Encoding.ASCII.GetBytes(storeOptions.Value.RedisKeyPrefix + "ib:");
    private readonly byte[][] _trendByLanguage = Locales.Languages.Select(l => Encoding.ASCII.GetBytes(storeOptions.Value.RedisKeyPrefix + "trend:" + l)).ToArray();
    private readonly byte[][] _trendByRegion = Locales.Regions.Select(r => Encoding.ASCII.GetBytes(storeOptions.Value.RedisKeyPrefix + "trend:r:" + r)).ToArray();
    private readonly byte[] _meta = Encoding.ASCII.GetBytes(storeOptions.Value.RedisKeyPrefix + "meta");
    /// <summary>Cached lists: key = language code, or 256 + region code.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, (long At, int[] Items)> _trending = new();

    /// <summary>Windowed counter fields, in <see cref="ItemWindowCounts"/> order.</summary>
    private static readonly byte[][] WindowFields = [":imp"u8.ToArray(), ":clk"u8.ToArray(), ":lik"u8.ToArray(), ":dwl"u8.ToArray()];

    /// <summary>First bytes of a stored query vector: 'Q', format 1.</summary>
    private const ushort QueryVectorMagic = 0x5131;

    /// <summary>Header: magic (2), item-vector version tag (8), history last event (8); then float32 little-endian.</summary>
    private const int QueryVectorHeader = 18;
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
        batch.Command("GET"u8, 2).Arg(_userPrefix, userIndex, ":qv"u8); // same round trip: no extra latency for the stored vector
        using var replies = await ReadAsync(batch, cancellationToken);
        var recentReply = replies[0];
        var recent = new int[recentReply.Count];
        var i = 0;
        foreach (var v in recentReply) recent[i++] = (int)v.AsInt64();
        var acted = ReadSet(replies[1]);
        var last = replies[2].IsNull ? 0 : replies[2].AsInt64();
        var seen = ReadSet(replies[3]);
        if (recent.Length == 0 && acted.Count == 0 && replies[2].IsNull && seen.Count == 0) return UserOnlineState.Empty;
        var qv = replies[4];
        if (qv.IsNull || !TryReadQueryVector(qv.Span, out var vector, out var tag, out var vectorLast)) return new UserOnlineState(recent, acted, last, seen);
        return new UserOnlineState(recent, acted, last, seen) { StoredQueryVector = vector, StoredQueryVectorVersion = tag, StoredQueryVectorLastEvent = vectorLast };
    }

    private static bool TryReadQueryVector(ReadOnlySpan<byte> bytes, out float[] vector, out ulong tag, out long last)
    {
        vector = [];
        tag = 0;
        last = 0;
        if (bytes.Length < QueryVectorHeader || (bytes.Length - QueryVectorHeader) % 4 != 0 || BinaryPrimitives.ReadUInt16LittleEndian(bytes) != QueryVectorMagic) return false;
        tag = BinaryPrimitives.ReadUInt64LittleEndian(bytes[2..]);
        last = BinaryPrimitives.ReadInt64LittleEndian(bytes[10..]);
        vector = new float[(bytes.Length - QueryVectorHeader) / 4];
        var body = bytes[QueryVectorHeader..];
        if (BitConverter.IsLittleEndian) body.CopyTo(MemoryMarshal.AsBytes(vector.AsSpan()));
        else
        {
            for (var i = 0; i < vector.Length; i++) vector[i] = BinaryPrimitives.ReadSingleLittleEndian(body[(i * 4)..]);
        }
        return true;
    }

    public async ValueTask RefreshQueryVectorsAsync(ReadOnlyMemory<int> users, ItemEmbeddings embeddings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        var n = users.Length;
        if (n == 0) return;
        var o = options.Value;
        // Round trip 1: every user's history and last event.
        using var read = new RespBatch(64 * n);
        foreach (var u in users.Span)
        {
            read.Command("LRANGE"u8, 4).Arg(_userPrefix, u, ":recent"u8).Arg(0).Arg(o.RecentHistoryLength - 1);
            read.Command("HGET"u8, 3).Arg(_userPrefix, u).Arg("last"u8);
        }
        using var current = await redis.ExecuteAsync(read, cancellationToken);

        // Round trip 2: the folded-in vectors with their TTL (or DEL where the history folds in to nothing).
        var tag = QueryVectorTag.Of(embeddings.Version);
        var ttl = o.QueryVectorTtlMinutes * 60L;
        var bytes = new byte[QueryVectorHeader + (4 * embeddings.Dimensions)];
        var vector = new float[embeddings.Dimensions];
        var recent = new List<int>(o.RecentHistoryLength);
        using var write = new RespBatch(n * (bytes.Length + 64));
        for (var i = 0; i < n; i++)
        {
            var u = users.Span[i];
            recent.Clear();
            foreach (var v in current[2 * i]) recent.Add((int)v.AsInt64());
            var last = current[(2 * i) + 1].AsInt64();
            if (!UserEmbedding.FoldIn(embeddings, CollectionsMarshal.AsSpan(recent), o.QueryVectorHistory, vector))
            {
                write.Command("DEL"u8, 2).Arg(_userPrefix, u, ":qv"u8);
                continue;
            }
            BinaryPrimitives.WriteUInt16LittleEndian(bytes, QueryVectorMagic);
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(2), tag);
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(10), last);
            for (var d = 0; d < vector.Length; d++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(QueryVectorHeader + (4 * d)), vector[d]);
            write.Command("SET"u8, 5).Arg(_userPrefix, u, ":qv"u8).Arg(bytes).Arg("EX"u8).Arg(ttl);
        }
        using var replies = await redis.ExecuteAsync(write, cancellationToken);
        for (var r = 0; r < replies.Count; r++) replies[r].ThrowIfError();
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
        // One round trip: an HMGET per item, then the trend scores and the decay origin read atomically (a rescale
        // moves both), as MULTI ZMSCORE HGET EXEC.
        using var batch = new RespBatch(128 + (n * 48));
        var ids = items.Span;
        for (var i = 0; i < n; i++)
        {
            batch.Command("HMGET"u8, 2 + CounterFields.Length).Arg(_itemPrefix, ids[i]);
            foreach (var field in CounterFields) batch.Arg(field);
        }
        batch.Command("MULTI"u8, 1);
        batch.Command("ZMSCORE"u8, 2 + n).Arg(_trendAll);
        for (var i = 0; i < n; i++) batch.Arg(ids[i]);
        batch.Command("HGET"u8, 3).Arg(_meta).Arg("trend_origin"u8);
        batch.Command("EXEC"u8, 1);
        using var replies = await ReadAsync(batch, cancellationToken);

        var exec = replies[n + 3];
        var originReply = exec[1];
        var decay = originReply.IsNull ? 0 : Math.Pow(2, -(clock.GetUtcNow().ToUnixTimeSeconds() - originReply.AsInt64()) / (options.Value.TrendHalfLifeHours * 3600));
        var dest = destination.Span;
        var trend = exec[0].GetEnumerator();
        Span<long> c = stackalloc long[6];
        for (var i = 0; i < n; i++)
        {
            var k = 0;
            foreach (var v in replies[i]) c[k++] = v.AsInt64();
            trend.MoveNext();
            dest[i] = new ItemStats((int)c[0], (int)c[1], (int)c[2], (int)c[3], (int)c[4], (int)c[5], (float)(trend.Current.AsDouble() * decay));
        }
    }

    public async ValueTask GetItemWindowCountsAsync(ReadOnlyMemory<int> items, TimeSpan window, Memory<ItemWindowCounts> destination, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var (first, last) = WindowBuckets.Range(o, clock.GetUtcNow().ToUnixTimeSeconds(), window);
        var n = items.Length;
        destination.Span[..n].Clear();
        if (n == 0) return;
        // One round trip: one HMGET per bucket with the four fields of every item.
        var buckets = (int)(last - first + 1);
        var fields = WindowFields.Length * n;
        using var batch = new RespBatch(64 + (buckets * n * 40));
        for (var b = first; b <= last; b++)
        {
            batch.Command("HMGET"u8, 2 + fields).Arg(_bucketPrefix, b);
            foreach (var item in items.Span)
            {
                foreach (var f in WindowFields) batch.Arg(ReadOnlySpan<byte>.Empty, item, f);
            }
        }
        using var replies = await ReadAsync(batch, cancellationToken);
        var dest = destination.Span;
        Span<long> c = stackalloc long[4];
        for (var r = 0; r < buckets; r++)
        {
            var e = replies[r].GetEnumerator();
            for (var i = 0; i < n; i++)
            {
                for (var f = 0; f < c.Length; f++)
                {
                    e.MoveNext();
                    c[f] = e.Current.AsInt64();
                }
                var d = dest[i];
                dest[i] = new ItemWindowCounts(d.Impressions + (int)c[0], d.Clicks + (int)c[1], d.Likes + (int)c[2], d.DwellSeconds + (int)c[3]);
            }
        }
    }

    public ValueTask<int> GetTrendingAsync(byte languageCode, Memory<int> destination, CancellationToken cancellationToken) =>
        TrendingAsync(languageCode, languageCode < _trendByLanguage.Length ? _trendByLanguage[languageCode] : _trendAll, destination, cancellationToken);

    public ValueTask<int> GetTrendingInRegionAsync(byte regionCode, Memory<int> destination, CancellationToken cancellationToken) =>
        regionCode < _trendByRegion.Length
            ? TrendingAsync(256 + regionCode, _trendByRegion[regionCode], destination, cancellationToken)
            : GetTrendingAsync(Locales.Unknown, destination, cancellationToken);

    private async ValueTask<int> TrendingAsync(int cacheKey, byte[] key, Memory<int> destination, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcTicks;
        var refresh = TimeSpan.FromSeconds(options.Value.TrendingRefreshSeconds).Ticks;
        if (!_trending.TryGetValue(cacheKey, out var list) || now - list.At >= refresh)
        {
            list = (now, await ReadTrendingAsync(key, cancellationToken));
            _trending[cacheKey] = list;
        }
        var count = Math.Min(destination.Length, list.Items.Length);
        list.Items.AsSpan(0, count).CopyTo(destination.Span);
        return count;
    }

    private async Task<int[]> ReadTrendingAsync(byte[] key, CancellationToken cancellationToken)
    {
        const int length = 1000; // as the in-memory store
        using var batch = new RespBatch(128);
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

    /// <summary>
    /// The decay origin as this process last saw it: set once in <c>rs:meta</c> (HSETNX), then cached; every trend write
    /// reads the real one in its transaction and corrects itself when a rescale moved it (<see cref="WriteTrendAsync"/>).
    /// </summary>
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

    /// <summary>Every trend key: all, per language, per region.</summary>
    private IEnumerable<byte[]> TrendKeys() => _trendByLanguage.Concat(_trendByRegion).Prepend(_trendAll);

    /// <summary>
    /// Forward-decay rescale. Once the origin is <see cref="FeaturesOptions.TrendRescaleHalfLives"/> half-lives old,
    /// moves it to now and multiplies every trend set by 2^(-(now - origin)/halfLife) (ZUNIONSTORE key 1 key WEIGHTS f),
    /// with the origin in one MULTI/EXEC, so readers and writers never see one without the other. Guarded by WATCH on
    /// <c>rs:meta</c> over a connection of its own (the shared one is multiplexed): of several replicas due at once one
    /// rescales; the others' EXEC aborts, they re-read the moved origin and find nothing due. Returns true when this
    /// call rescaled.
    /// </summary>
    internal async Task<bool> RescaleIfDueAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        var halfLifeSeconds = o.TrendHalfLifeHours * 3600;
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        var origin = await TrendOriginAsync(cancellationToken);
        if ((now - origin) / halfLifeSeconds < o.TrendRescaleHalfLives) return false;

        await using var own = new RedisClient(redis.Endpoint);
        for (var attempt = 0; attempt < 5; attempt++)
        {
            using (var watch = new RespBatch(128))
            {
                watch.Command("WATCH"u8, 2).Arg(_meta);
                watch.Command("HGET"u8, 3).Arg(_meta).Arg("trend_origin"u8);
                using var seen = await own.ExecuteAsync(watch, cancellationToken);
                seen[0].ThrowIfError();
                origin = seen[1].IsNull ? now : seen[1].AsInt64();
            }
            if ((now - origin) / halfLifeSeconds < o.TrendRescaleHalfLives)
            {
                using var unwatch = new RespBatch(32);
                unwatch.Command("UNWATCH"u8, 1);
                using var _ = await own.ExecuteAsync(unwatch, cancellationToken);
                Interlocked.Exchange(ref _trendOrigin, origin);
                return false; // another replica rescaled (or the origin is new)
            }
            var factor = Math.Pow(2, -(now - origin) / halfLifeSeconds);
            using var batch = new RespBatch(1024);
            batch.Command("MULTI"u8, 1);
            foreach (var key in TrendKeys()) batch.Command("ZUNIONSTORE"u8, 6).Arg(key).Arg(1).Arg(key).Arg("WEIGHTS"u8).Arg(factor);
            batch.Command("HSET"u8, 4).Arg(_meta).Arg("trend_origin"u8).Arg(now);
            batch.Command("EXEC"u8, 1);
            using var replies = await own.ExecuteAsync(batch, cancellationToken);
            for (var r = 0; r < replies.Count; r++) replies[r].ThrowIfError();
            if (replies[replies.Count - 1].IsNull) continue; // rs:meta changed since WATCH: look again
            foreach (var reply in replies[replies.Count - 1]) reply.ThrowIfError();
            Interlocked.Exchange(ref _trendOrigin, now);
            LogRescaled(logger, origin, now, factor);
            return true;
        }
        throw new RedisException("The trend rescale kept losing its WATCH on rs:meta; giving up for now (the next write retries).");
    }

    private readonly record struct TrendOp(byte[] Key, int Item, double Amount);

    /// <summary>
    /// Adds trend increments computed against <paramref name="origin"/>: MULTI, HGET trend_origin, ZINCRBY..., EXEC. The
    /// transaction shows the origin in force when the increments landed; if a rescale had moved it, the increments are
    /// corrected by the same factor in another such transaction (so no increment is ever scaled twice or never).
    /// </summary>
    private async Task WriteTrendAsync(List<TrendOp> ops, long origin, CancellationToken cancellationToken)
    {
        var halfLifeSeconds = options.Value.TrendHalfLifeHours * 3600;
        for (var attempt = 0; ops.Count > 0; attempt++)
        {
            if (attempt == 5) throw new RedisException("The trend origin kept moving while trend increments were written.");
            using var batch = new RespBatch(64 + (ops.Count * 64));
            batch.Command("MULTI"u8, 1);
            batch.Command("HGET"u8, 3).Arg(_meta).Arg("trend_origin"u8);
            foreach (var op in ops) batch.Command("ZINCRBY"u8, 4).Arg(op.Key).Arg(op.Amount).Arg(op.Item);
            batch.Command("EXEC"u8, 1);
            using var replies = await redis.ExecuteAsync(batch, cancellationToken);
            for (var r = 0; r < replies.Count; r++) CheckWrite(replies[r]);
            var exec = replies[replies.Count - 1];
            foreach (var reply in exec) CheckWrite(reply);
            var origins = exec[0];
            long actual;
            if (origins.IsNull)
            {
                // The keys were cleared (the load verb) after this process cached the origin: set ours again.
                using var init = new RespBatch(128);
                init.Command("HSETNX"u8, 4).Arg(_meta).Arg("trend_origin"u8).Arg(origin);
                init.Command("HGET"u8, 3).Arg(_meta).Arg("trend_origin"u8);
                using var set = await redis.ExecuteAsync(init, cancellationToken);
                actual = set[1].AsInt64();
            }
            else
            {
                actual = origins.AsInt64();
            }
            Interlocked.Exchange(ref _trendOrigin, actual);
            if (actual == origin) return;
            // The increments landed scaled for the old origin: add the difference for the new one.
            var scale = Math.Pow(2, (origin - actual) / halfLifeSeconds) - 1;
            for (var i = 0; i < ops.Count; i++) ops[i] = ops[i] with { Amount = ops[i].Amount * scale };
            origin = actual;
        }
    }

    private void CheckWrite(RespValue reply)
    {
        if (!reply.IsError) return;
        LogWriteFailed(logger, reply.ErrorMessage);
        reply.ThrowIfError();
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
        if (!interactions.IsEmpty) await RescaleIfDueAsync(cancellationToken);
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
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        var oldestBucket = WindowBuckets.Oldest(o, now);
        var counters = new Dictionary<int, long[]>();
        var windowed = new Dictionary<(long Bucket, int Item), long[]>();
        var trend = new Dictionary<int, double>();
        var regionTrend = new Dictionary<(byte Region, int Item), double>();
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
                var amount = field == 5 ? (int)Math.Clamp(e.Value, 0, 86_400) : 1;
                if (!counters.TryGetValue(e.ItemIndex, out var c)) counters[e.ItemIndex] = c = new long[6];
                c[field] += amount;
                var windowField = field switch { 0 => 0, 1 => 1, 2 => 2, 5 => 3, _ => -1 };
                var bucket = WindowBuckets.Of(o, e.UnixSeconds);
                if (windowField >= 0 && bucket >= oldestBucket)
                {
                    if (!windowed.TryGetValue((bucket, e.ItemIndex), out var w)) windowed[(bucket, e.ItemIndex)] = w = new long[4];
                    w[windowField] += amount;
                }
            }
            if (e.Type is EventType.Impression or EventType.View) continue;
            if (e.IsPositive)
            {
                var amount = Math.Pow(2, (e.UnixSeconds - origin) / halfLifeSeconds);
                trend[e.ItemIndex] = trend.GetValueOrDefault(e.ItemIndex) + amount;
                var region = StoreLocales.UserRegion(catalog, e.UserIndex);
                if (region < _trendByRegion.Length) regionTrend[(region, e.ItemIndex)] = regionTrend.GetValueOrDefault((region, e.ItemIndex)) + amount;
            }
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
        foreach (var (item, c) in counters)
        {
            for (var f = 0; f < c.Length; f++)
            {
                if (c[f] != 0) write.Command("HINCRBY"u8, 4).Arg(_itemPrefix, item).Arg(CounterFields[f]).Arg(c[f]);
            }
        }
        var buckets = new HashSet<long>();
        foreach (var ((bucket, item), w) in windowed)
        {
            buckets.Add(bucket);
            for (var f = 0; f < w.Length; f++)
            {
                if (w[f] != 0) write.Command("HINCRBY"u8, 4).Arg(_bucketPrefix, bucket).Arg(ReadOnlySpan<byte>.Empty, item, WindowFields[f]).Arg(w[f]);
            }
        }
        // A bucket lives until the retention has passed its end (relative to the store's clock, so TTLs stay right
        // whatever the clock says).
        foreach (var bucket in buckets) write.Command("EXPIRE"u8, 3).Arg(_bucketPrefix, bucket).Arg(Math.Max(1, WindowBuckets.SecondsToLive(o, bucket, now)));
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
        if (write.Count > 0)
        {
            using var replies = await redis.ExecuteAsync(write, cancellationToken);
            for (var r = 0; r < replies.Count; r++) CheckWrite(replies[r]);
        }

        if (trend.Count == 0) return;
        var languages = catalog.Columns.LanguageCodes;
        var ops = new List<TrendOp>((trend.Count * 2) + regionTrend.Count);
        foreach (var (item, amount) in trend)
        {
            ops.Add(new TrendOp(_trendAll, item, amount));
            var language = (uint)item < (uint)languages.Length ? languages[item] : Locales.Unknown;
            if (language < _trendByLanguage.Length) ops.Add(new TrendOp(_trendByLanguage[language], item, amount));
        }
        foreach (var ((region, item), amount) in regionTrend) ops.Add(new TrendOp(_trendByRegion[region], item, amount));
        await WriteTrendAsync(ops, origin, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Redis refused an online-store write: {Error}")]
    private static partial void LogWriteFailed(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Trend scores rescaled: decay origin moved from {OldOrigin} to {NewOrigin} (unix s), every trend set multiplied by {Factor}")]
    private static partial void LogRescaled(ILogger logger, long oldOrigin, long newOrigin, double factor);
}
