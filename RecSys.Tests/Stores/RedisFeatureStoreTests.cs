using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RecSys.Catalog;
using RecSys.Catalog.Memory;
using RecSys.Events;
using RecSys.Features;
using RecSys.Features.Memory;
using RecSys.Features.Redis;
using RecSys.Features.Redis.Resp;

namespace RecSys.Tests.Stores;

/// <summary>The Redis store against a real Redis, checked against the in-memory store's observable behaviour.</summary>
public sealed class RedisFeatureStoreTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private RedisClient _redis = null!;

    public Task InitializeAsync()
    {
        // A command timeout far above a loaded CI machine's hiccups too: bulk applies of a whole world are big batches.
        _redis = new RedisClient(RedisEndpoint.Parse(TestServers.Redis + ",commandTimeout=30000"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    /// <summary>A read budget far above any hiccup of a loaded CI machine: these tests check behaviour, not the budget.</summary>
    private static OnlineStoreOptions Online(string prefix) => new() { Online = "redis", RedisKeyPrefix = prefix, RedisReadTimeoutMilliseconds = 30_000 };

    private static FeaturesOptions Features(int history) => new() { RecentHistoryLength = history, TrendHalfLifeHours = 24, SeenWindowMinutes = 60, TrendingRefreshSeconds = 5 };

    private RedisFeatureStore Redis(ICatalog catalog, TimeProvider clock, int history = 50) =>
        new(_redis, Options.Create(Features(history)), Options.Create(Online(TestServers.UniquePrefix())),
            clock, catalog, NullLogger<RedisFeatureStore>.Instance);

    private static InMemoryFeatureStore Memory(ICatalog catalog, TimeProvider clock, int history = 50) => new(Options.Create(Features(history)), clock, catalog);

    private sealed class MovableClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static ICatalog LanguageCatalog(int items)
    {
        var catalog = new InMemoryCatalog();
        catalog.Load(new CatalogSnapshot("t", Enumerable.Range(0, items).Select(i => new Item(i, $"i_{i}", "t", 0, "c", 0, Now, 0, false, "us", i % 2 == 0 ? "en" : "de", "")).ToList(),
            [new UserProfile(0, "u_0", 30, "us", "en", false, 10)], ["c"]));
        return catalog;
    }

    [Fact]
    public async Task History_counters_and_trend_match_the_in_memory_store_event_for_event()
    {
        var store = Redis(LanguageCatalog(20), new TestWorld.FixedClock(Now), history: 3);
        var t = Now.ToUnixTimeSeconds();
        await store.ApplyAsync(new Interaction[]
        {
            new(1, 10, EventType.Impression, t - 50, 0),
            new(1, 10, EventType.Click, t - 40, 0),
            new(1, 10, EventType.Like, t - 39, 0),
            new(1, 11, EventType.Click, t - 30, 0),
            new(1, 12, EventType.Hide, t - 25, 0),
        }, default);
        // A second batch continues the history: the same newest item again is not a new entry.
        await store.ApplyAsync(new Interaction[] { new(1, 11, EventType.Dwell, t - 22, 5), new(1, 13, EventType.Dwell, t - 20, 30), new(1, 14, EventType.Share, t - 10, 0) }, default);

        var state = await store.GetUserStateAsync(1, default);
        Assert.Equal([14, 13, 11], state.RecentItems);
        Assert.Equal(new HashSet<int> { 10, 11, 12, 13, 14 }, state.InteractedItems.ToHashSet());
        Assert.Equal(t - 10, state.LastEventUnixSeconds);
        Assert.Same(UserOnlineState.Empty, await store.GetUserStateAsync(2, default));

        await store.ApplyAsync(new Interaction[] { new(1, 5, EventType.Impression, t, 0), new(2, 5, EventType.Click, t, 0), new(2, 5, EventType.Dwell, t, 42), new(2, 6, EventType.Click, t - (24 * 3600), 0) }, default);
        var stats = new ItemStats[3];
        await store.GetItemStatsAsync(new[] { 5, 6, 19 }, stats, default);
        Assert.Equal((1, 1, 42), (stats[0].Impressions, stats[0].Clicks, stats[0].DwellSeconds));
        Assert.Equal(2f, stats[0].TrendScore, 3);
        Assert.Equal(0.5f, stats[1].TrendScore, 3);
        Assert.Equal(default, stats[2]);
    }

    [Fact]
    public async Task Seen_items_stay_for_the_window_only()
    {
        var clock = new MovableClock(Now);
        var store = Redis(LanguageCatalog(20), clock);
        await store.MarkSeenAsync(3, new[] { 7, 8 }, Now.ToUnixTimeSeconds(), default);
        await store.MarkSeenAsync(3, new[] { 9 }, Now.AddMinutes(30).ToUnixTimeSeconds(), default);
        clock.Now = Now.AddMinutes(45);
        Assert.Equal(new HashSet<int> { 7, 8, 9 }, (await store.GetUserStateAsync(3, default)).SeenItems.ToHashSet());
        clock.Now = Now.AddMinutes(61);
        Assert.Equal(new HashSet<int> { 9 }, (await store.GetUserStateAsync(3, default)).SeenItems.ToHashSet());
        Assert.Empty((await store.GetUserStateAsync(3, default)).RecentItems);
    }

    [Fact]
    public async Task A_whole_generated_world_reads_back_the_same_as_from_the_in_memory_store()
    {
        var world = TestWorld.Small;
        var catalog = new InMemoryCatalog();
        catalog.Load(world.ToCatalogSnapshot());
        var clock = new TestWorld.FixedClock(world.Anchor);
        var memory = Memory(catalog, clock);
        var redis = Redis(catalog, clock);
        await memory.ApplyAsync(world.Interactions, default);
        await redis.ApplyAsync(world.Interactions, default);
        var seen = Enumerable.Range(0, 30).ToArray();
        await memory.MarkSeenAsync(4, seen, world.Anchor.ToUnixTimeSeconds() - 60, default);
        await redis.MarkSeenAsync(4, seen, world.Anchor.ToUnixTimeSeconds() - 60, default);

        for (var u = 0; u < world.Users.Count; u++)
        {
            var m = await memory.GetUserStateAsync(u, default);
            var r = await redis.GetUserStateAsync(u, default);
            Assert.Equal(m.RecentItems, r.RecentItems);
            Assert.True(m.InteractedItems.SetEquals(r.InteractedItems), $"user {u}");
            Assert.True(m.SeenItems.SetEquals(r.SeenItems), $"user {u}");
            Assert.Equal(m.LastEventUnixSeconds, r.LastEventUnixSeconds);
        }
        var items = Enumerable.Range(0, world.Items.Count).ToArray();
        var ms = new ItemStats[items.Length];
        var rs = new ItemStats[items.Length];
        await memory.GetItemStatsAsync(items, ms, default);
        await redis.GetItemStatsAsync(items, rs, default);
        for (var i = 0; i < items.Length; i++)
        {
            Assert.Equal(ms[i] with { TrendScore = 0 }, rs[i] with { TrendScore = 0 });
            Assert.Equal(ms[i].TrendScore, rs[i].TrendScore, 3);
        }
        Assert.True(ms.Sum(s => s.Clicks) > 1000, "the world has events");
        foreach (var language in Locales.Languages.Select(Locales.LanguageCode).Append(Locales.Unknown))
        {
            var a = new int[200];
            var b = new int[200];
            var na = await memory.GetTrendingAsync(language, a, default);
            var nb = await redis.GetTrendingAsync(language, b, default);
            Assert.Equal(a[..na], b[..nb]);
        }
    }

    [Fact]
    public async Task Features_of_500_candidates_take_one_round_trip()
    {
        var store = Redis(LanguageCatalog(20), new TestWorld.FixedClock(Now));
        var items = Enumerable.Range(0, 500).ToArray();
        var stats = new ItemStats[500];
        await store.GetItemStatsAsync(items, stats, default); // the first call also reads the trend origin
        var before = _redis.BatchesSent;
        await store.GetItemStatsAsync(items, stats, default);
        Assert.Equal(1, _redis.BatchesSent - before);
        before = _redis.BatchesSent;
        await store.GetUserStateAsync(1, default);
        Assert.Equal(1, _redis.BatchesSent - before);
    }

    [Fact]
    public async Task The_load_marker_lives_in_redis_so_a_new_instance_sees_a_loaded_store()
    {
        var options = Options.Create(Online(TestServers.UniquePrefix()));
        var catalog = LanguageCatalog(4);
        var first = new RedisFeatureStore(_redis, Options.Create(Features(5)), options, TimeProvider.System, catalog, NullLogger<RedisFeatureStore>.Instance);
        var second = new RedisFeatureStore(_redis, Options.Create(Features(5)), options, TimeProvider.System, catalog, NullLogger<RedisFeatureStore>.Instance);
        Assert.False(await second.RefreshLoadedAsync(default));
        first.MarkLoaded(10, 4);
        Assert.True(first.IsLoaded);
        Assert.True(await second.RefreshLoadedAsync(default));
        Assert.True(second.IsLoaded);
    }
}
