using System.Text;

namespace RecSys.Features.Redis.Resp;

/// <summary>
/// Typed single-command helpers. They allocate their arguments and results and suit tools and tests; the hot paths of
/// the feature store build <see cref="RespBatch"/>es directly and read the replies in place.
/// </summary>
internal sealed partial class RedisClient
{
    /// <summary>Runs one command built from string arguments and returns its reply (the caller disposes it).</summary>
    public async Task<RespReplies> CommandAsync(CancellationToken cancellationToken, params string[] parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        using var batch = new RespBatch();
        batch.Command(parts.Length);
        foreach (var part in parts) batch.Arg(part);
        return await ExecuteAsync(batch, cancellationToken).ConfigureAwait(false);
    }

    private async Task<T> OneAsync<T>(Func<RespValue, T> read, CancellationToken cancellationToken, params string[] parts)
    {
        using var replies = await CommandAsync(cancellationToken, parts).ConfigureAwait(false);
        return read(replies[0]);
    }

    private static string[] Concat(string first, IEnumerable<string> rest) => [first, .. rest];
    private static string[] Concat(string first, string second, IEnumerable<string> rest) => [first, second, .. rest];

    private static string?[] Strings(RespValue v)
    {
        var result = new string?[v.Count];
        var i = 0;
        foreach (var x in v) result[i++] = x.AsString();
        return result;
    }

    public Task<string?> PingAsync(CancellationToken ct) => OneAsync(v => v.AsString(), ct, "PING");

    public Task<string?> GetAsync(string key, CancellationToken ct) => OneAsync(v => v.AsString(), ct, "GET", key);

    public Task<byte[]?> GetBytesAsync(string key, CancellationToken ct) => OneAsync(v => v.IsNull ? null : v.Span.ToArray(), ct, "GET", key);

    public async Task SetAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? expiry, CancellationToken ct)
    {
        using var batch = new RespBatch();
        batch.Command(expiry is null ? 3 : 5).Arg("SET"u8).Arg(key).Arg(value.Span);
        if (expiry is { } ex) batch.Arg("EX"u8).Arg((long)Math.Ceiling(ex.TotalSeconds));
        using var replies = await ExecuteAsync(batch, ct).ConfigureAwait(false);
        replies[0].ThrowIfError();
    }

    public Task SetAsync(string key, string value, TimeSpan? expiry, CancellationToken ct) => SetAsync(key, Encoding.UTF8.GetBytes(value), expiry, ct);

    public Task<string?[]> MGetAsync(IEnumerable<string> keys, CancellationToken ct) => OneAsync(Strings, ct, Concat("MGET", keys));

    public Task<long> HSetAsync(string key, IEnumerable<KeyValuePair<string, string>> fields, CancellationToken ct) =>
        OneAsync(v => v.AsInt64(), ct, Concat("HSET", key, fields.SelectMany(f => new[] { f.Key, f.Value })));

    public Task<string?[]> HMGetAsync(string key, IEnumerable<string> fields, CancellationToken ct) => OneAsync(Strings, ct, Concat("HMGET", key, fields));

    public Task<Dictionary<string, string>> HGetAllAsync(string key, CancellationToken ct) => OneAsync(v =>
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var values = Strings(v);
        for (var i = 0; i + 1 < values.Length; i += 2) result[values[i]!] = values[i + 1]!;
        return result;
    }, ct, "HGETALL", key);

    public Task<long> HIncrByAsync(string key, string field, long by, CancellationToken ct) => OneAsync(v => v.AsInt64(), ct, "HINCRBY", key, field, by.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public Task<long> LPushAsync(string key, IEnumerable<string> values, CancellationToken ct) => OneAsync(v => v.AsInt64(), ct, Concat("LPUSH", key, values));

    public Task LTrimAsync(string key, long start, long stop, CancellationToken ct) => OneAsync(v => v.AsString(), ct, "LTRIM", key, Num(start), Num(stop));

    public Task<string?[]> LRangeAsync(string key, long start, long stop, CancellationToken ct) => OneAsync(Strings, ct, "LRANGE", key, Num(start), Num(stop));

    public Task<double> ZIncrByAsync(string key, double by, string member, CancellationToken ct) =>
        OneAsync(v => v.AsDouble(), ct, "ZINCRBY", key, by.ToString("R", System.Globalization.CultureInfo.InvariantCulture), member);

    public Task<(string Member, double Score)[]> ZRevRangeWithScoresAsync(string key, long start, long stop, CancellationToken ct) => OneAsync(v =>
    {
        var result = new (string, double)[v.Count / 2];
        for (var i = 0; i < result.Length; i++) result[i] = (v[2 * i].AsString()!, v[(2 * i) + 1].AsDouble());
        return result;
    }, ct, "ZREVRANGE", key, Num(start), Num(stop), "WITHSCORES");

    public Task<long> SAddAsync(string key, IEnumerable<string> members, CancellationToken ct) => OneAsync(v => v.AsInt64(), ct, Concat("SADD", key, members));

    public Task<bool> SIsMemberAsync(string key, string member, CancellationToken ct) => OneAsync(v => v.AsInt64() == 1, ct, "SISMEMBER", key, member);

    public Task<string?[]> SMembersAsync(string key, CancellationToken ct) => OneAsync(Strings, ct, "SMEMBERS", key);

    public Task<bool> ExpireAsync(string key, TimeSpan ttl, CancellationToken ct) => OneAsync(v => v.AsInt64() == 1, ct, "EXPIRE", key, Num((long)Math.Ceiling(ttl.TotalSeconds)));

    public Task<long> DelAsync(IEnumerable<string> keys, CancellationToken ct) => OneAsync(v => v.AsInt64(), ct, Concat("DEL", keys));

    private static string Num(long value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
