using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RecSys.Catalog;
using RecSys.Events;
using RecSys.Features;
using RecSys.Features.Redis;
using RecSys.Features.Redis.Resp;
using RecSys.Tests.Features;

namespace RecSys.Tests.Stores;

/// <summary>The online-store contract against a real Redis, plus what only a shared store has: replicas.</summary>
public sealed class RedisOnlineStoreContractTests : OnlineStoreContract, IAsyncLifetime
{
    private RedisClient _redis = null!;
    private readonly Dictionary<IFeatureStore, string> _prefixes = [];

    public Task InitializeAsync()
    {
        _redis = new RedisClient(RedisEndpoint.Parse(TestServers.Redis + ",commandTimeout=30000"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    private RedisFeatureStore Create(ICatalog catalog, TimeProvider clock, FeaturesOptions options, string prefix)
    {
        var store = new RedisFeatureStore(_redis, Microsoft.Extensions.Options.Options.Create(options),
            Microsoft.Extensions.Options.Options.Create(new OnlineStoreOptions { Online = "redis", RedisKeyPrefix = prefix, RedisReadTimeoutMilliseconds = 30_000 }),
            clock, catalog, NullLogger<RedisFeatureStore>.Instance);
        _prefixes[store] = prefix;
        return store;
    }

    internal override IFeatureStore Create(ICatalog catalog, TimeProvider clock, FeaturesOptions options) => Create(catalog, clock, options, TestServers.UniquePrefix());

    private async Task<long> IntegerAsync(params string[] command)
    {
        using var reply = await _redis.CommandAsync(default, command);
        return reply[0].AsInt64();
    }

    internal override async Task ExpireQueryVectorAsync(IFeatureStore store, int user, MovableClock clock, FeaturesOptions options)
    {
        // Redis expires keys by its own clock: check the TTL the store set, then shorten it rather than wait 30 minutes.
        var key = $"{_prefixes[store]}u:{user}:qv";
        var ttl = await IntegerAsync("PTTL", key);
        Assert.InRange(ttl, (options.QueryVectorTtlMinutes * 60_000L) - 10_000, options.QueryVectorTtlMinutes * 60_000L);
        Assert.Equal(1, await IntegerAsync("PEXPIRE", key, "20"));
        await Task.Delay(100);
        Assert.Equal(0, await IntegerAsync("EXISTS", key));
    }

    internal override async Task<long> TrendOriginAsync(IFeatureStore store)
    {
        using var reply = await _redis.CommandAsync(default, "HGET", _prefixes[store] + "meta", "trend_origin");
        return reply[0].AsInt64();
    }

    internal override Task<bool> RescaleIfDueAsync(IFeatureStore store) => ((RedisFeatureStore)store).RescaleIfDueAsync(default);

    private async Task<double> RawScoreAsync(string prefix, int item)
    {
        using var reply = await _redis.CommandAsync(default, "ZSCORE", prefix + "trend:all", item.ToString(CultureInfo.InvariantCulture));
        return reply[0].AsDouble();
    }

    [Fact]
    public async Task The_stored_vector_comes_in_the_user_state_round_trip_and_window_counts_of_500_items_in_one()
    {
        var catalog = Catalog();
        var store = (RedisFeatureStore)Create(catalog, new MovableClock(Now), Options());
        await store.ApplyAsync(new Interaction[] { new(1, 3, EventType.Click, Now.ToUnixTimeSeconds() - 10, 0) }, default);
        await store.RefreshQueryVectorsAsync(new[] { 1 }, Vectors("v1"), default);
        var before = _redis.BatchesSent;
        var state = await store.GetUserStateAsync(1, default);
        Assert.Equal(1, _redis.BatchesSent - before);
        Assert.True(state.TryGetQueryVector(Vectors("v1"), new float[2]));

        var items = Enumerable.Range(0, 500).ToArray();
        var counts = new ItemWindowCounts[500];
        before = _redis.BatchesSent;
        await store.GetItemWindowCountsAsync(items, TimeSpan.FromHours(24), counts, default);
        Assert.Equal(1, _redis.BatchesSent - before);
        Assert.Equal(1, counts[3].Clicks);
        Assert.Equal(1, counts.Sum(c => c.Clicks));

        // The bucket lives until the retention has passed its end.
        var bucket = (Now.ToUnixTimeSeconds() - 10) / 3600;
        var ttl = await IntegerAsync("PTTL", $"{_prefixes[store]}ib:{bucket}");
        Assert.InRange(ttl, (48 * 3_600_000L) - 10_000, 48 * 3_600_000L);
    }

    [Fact]
    public async Task A_replica_writing_with_an_origin_from_before_a_rescale_corrects_its_increments()
    {
        var catalog = Catalog();
        var prefix = TestServers.UniquePrefix();
        var clockA = new MovableClock(Now);
        var clockB = new MovableClock(Now);
        var a = Create(catalog, clockA, Options(), prefix);
        var b = Create(catalog, clockB, Options(), prefix);
        await a.ApplyAsync(new Interaction[] { new(0, 2, EventType.Click, Now.ToUnixTimeSeconds(), 0) }, default);
        await b.ApplyAsync(new Interaction[] { new(0, 9, EventType.Impression, Now.ToUnixTimeSeconds(), 0) }, default); // b caches the origin

        clockA.Now = Now.AddDays(31);
        Assert.True(await a.RescaleIfDueAsync(default));
        Assert.InRange(await RawScoreAsync(prefix, 2) / Math.Pow(2, -31), 0.999, 1.001);

        // b's clock is a little behind: by its cached origin nothing is due, so it writes 2^29 for an event 29 days
        // after the old origin. Its transaction sees the moved origin and corrects the increment to 2^-2.
        clockB.Now = Now.AddDays(29);
        await b.ApplyAsync(new Interaction[] { new(0, 6, EventType.Click, clockB.Now.ToUnixTimeSeconds(), 0) }, default);
        Assert.Equal(0.25, await RawScoreAsync(prefix, 6), 6);
        var stats = new ItemStats[2];
        await a.GetItemStatsAsync(new[] { 2, 6 }, stats, default);
        Assert.InRange(stats[0].TrendScore / Math.Pow(2, -31), 0.999, 1.001);
        Assert.Equal(0.25f, stats[1].TrendScore, 5);
    }

    [Fact]
    public async Task Replicas_due_at_the_same_moment_rescale_once()
    {
        var catalog = Catalog();
        var prefix = TestServers.UniquePrefix();
        var clock = new MovableClock(Now);
        var replicas = Enumerable.Range(0, 4).Select(_ => Create(catalog, clock, Options(), prefix)).ToArray();
        await replicas[0].ApplyAsync(new Interaction[] { new(0, 2, EventType.Click, Now.ToUnixTimeSeconds(), 0) }, default);
        foreach (var r in replicas) Assert.False(await r.RescaleIfDueAsync(default)); // each caches the origin

        clock.Now = Now.AddDays(40);
        var rescaled = await Task.WhenAll(replicas.Select(r => Task.Run(() => r.RescaleIfDueAsync(default))));
        Assert.Single(rescaled, x => x);
        Assert.InRange(await RawScoreAsync(prefix, 2) / Math.Pow(2, -40), 0.999, 1.001); // scaled once, not four times
        Assert.Equal(clock.Now.ToUnixTimeSeconds(), await TrendOriginAsync(replicas[3]));
    }
}
