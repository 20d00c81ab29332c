using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RecSys.Catalog;
using RecSys.Catalog.Memory;
using RecSys.Events;
using RecSys.Events.Bus;
using RecSys.Events.Consumer;
using RecSys.Features;
using RecSys.Features.Memory;
using RecSys.Retrieval;

namespace RecSys.Tests.Features;

/// <summary>
/// The behaviour both online stores must show: the stored query vector (written by the event consumer, with a TTL, tied
/// to the item vectors and the history), windowed counters, trending per language and per user region, and the
/// forward-decay rescale.
/// Run against the in-memory store here and against a real Redis in <c>Stores/RedisOnlineStoreContractTests</c>.
/// </summary>
public abstract class OnlineStoreContract
{
    protected static readonly DateTimeOffset Now = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    internal sealed class MovableClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    protected static FeaturesOptions Options(int ttlMinutes = 60) => new()
    {
        RecentHistoryLength = 10, QueryVectorHistory = 10, TrendHalfLifeHours = 24, SeenWindowMinutes = 60, TrendingRefreshSeconds = 5,
        QueryVectorTtlMinutes = ttlMinutes, CounterBucketMinutes = 60, CounterRetentionHours = 48, TrendRescaleHalfLives = 30,
    };

    /// <summary>Items 0..19 (even English, odd German); users u_0..u_9, even in region us, odd in de.</summary>
    protected static ICatalog Catalog()
    {
        var catalog = new InMemoryCatalog();
        catalog.Load(new CatalogSnapshot("t",
            Enumerable.Range(0, 20).Select(i => new Item(i, $"i_{i}", "t", 0, "c", 0, Now, 0, false, "us", i % 2 == 0 ? "en" : "de", "")).ToList(),
            Enumerable.Range(0, 10).Select(u => new UserProfile(u, $"u_{u}", 30, u % 2 == 0 ? "us" : "de", "en", false, 10)).ToList(), ["c"]));
        return catalog;
    }

    /// <summary>Item i's vector points at angle i * 0.3 rad: every fold-in of a different history differs.</summary>
    protected static ItemEmbeddings Vectors(string version, int dimensions = 2)
    {
        var data = new float[20 * dimensions];
        for (var i = 0; i < 20; i++)
        {
            data[i * dimensions] = MathF.Cos(i * 0.3f);
            data[(i * dimensions) + 1] = MathF.Sin(i * 0.3f);
        }
        return new ItemEmbeddings(version, dimensions, data);
    }

    internal abstract IFeatureStore Create(ICatalog catalog, TimeProvider clock, FeaturesOptions options);

    /// <summary>Lets the stored query vector of <paramref name="user"/> expire (after checking its TTL where the store has one).</summary>
    internal abstract Task ExpireQueryVectorAsync(IFeatureStore store, int user, MovableClock clock, FeaturesOptions options);

    internal abstract Task<long> TrendOriginAsync(IFeatureStore store);

    internal abstract Task<bool> RescaleIfDueAsync(IFeatureStore store);

    private static EventApplier Applier(ICatalog catalog, IFeatureStore store, ItemEmbeddingStore embeddings) =>
        new(catalog, store, embeddings, [], [], Microsoft.Extensions.Options.Options.Create(new EventsOptions()), new EventStats(), NullLogger<EventApplier>.Instance);

    private int _eventId;

    private Task Post(EventApplier applier, string user, string item, EventType type, DateTimeOffset at) =>
        applier.ApplyAsync([BusMessage.Of([new UserEvent($"e{Interlocked.Increment(ref _eventId)}", user, item, type, type == EventType.Dwell ? 30 : null, null, at, null)])], default).AsTask();

    private static float[] FoldIn(ItemEmbeddings embeddings, params int[] recent)
    {
        var vector = new float[embeddings.Dimensions];
        Assert.True(UserEmbedding.FoldIn(embeddings, recent, 10, vector));
        return vector;
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 5);
    }

    [Fact]
    public async Task The_consumer_stores_the_query_vector_and_the_next_event_moves_it()
    {
        var catalog = Catalog();
        var store = Create(catalog, new MovableClock(Now), Options());
        var embeddings = new ItemEmbeddingStore();
        embeddings.Publish(Vectors("v1"));
        var applier = Applier(catalog, store, embeddings);

        await Post(applier, "u_1", "i_3", EventType.Click, Now.AddMinutes(-10));
        var state = await store.GetUserStateAsync(1, default);
        Assert.NotNull(state.StoredQueryVector); // stored by the consumer, not folded in by this read
        var first = new float[2];
        Assert.True(state.TryGetQueryVector(embeddings.Current!, first));
        AssertClose(FoldIn(embeddings.Current!, 3), first);

        await Post(applier, "u_1", "i_4", EventType.Like, Now.AddMinutes(-5));
        var second = new float[2];
        Assert.True((await store.GetUserStateAsync(1, default)).TryGetQueryVector(embeddings.Current!, second));
        AssertClose(FoldIn(embeddings.Current!, 4, 3), second);
        Assert.NotEqual(first[0], second[0], 3);

        // An impression changes no history: the stored vector stays valid.
        await Post(applier, "u_1", "i_9", EventType.Impression, Now.AddMinutes(-4));
        Assert.True((await store.GetUserStateAsync(1, default)).TryGetQueryVector(embeddings.Current!, new float[2]));
    }

    [Fact]
    public async Task The_stored_query_vector_expires()
    {
        var catalog = Catalog();
        var clock = new MovableClock(Now);
        var options = Options(ttlMinutes: 30);
        var store = Create(catalog, clock, options);
        var embeddings = new ItemEmbeddingStore();
        embeddings.Publish(Vectors("v1"));
        await Post(Applier(catalog, store, embeddings), "u_2", "i_5", EventType.Click, Now.AddMinutes(-1));
        Assert.NotNull((await store.GetUserStateAsync(2, default)).StoredQueryVector);

        await ExpireQueryVectorAsync(store, 2, clock, options);

        var state = await store.GetUserStateAsync(2, default);
        Assert.Null(state.StoredQueryVector);
        Assert.False(state.TryGetQueryVector(embeddings.Current!, new float[2]));
        Assert.Equal([5], state.RecentItems); // the history itself stays: the request folds in from it
    }

    [Fact]
    public async Task A_vector_from_other_item_vectors_or_an_older_history_is_not_served()
    {
        var catalog = Catalog();
        var store = Create(catalog, new MovableClock(Now), Options());
        var embeddings = new ItemEmbeddingStore();
        var v1 = Vectors("v1");
        embeddings.Publish(v1);
        await Post(Applier(catalog, store, embeddings), "u_3", "i_6", EventType.Click, Now.AddMinutes(-10));
        var state = await store.GetUserStateAsync(3, default);
        Assert.True(state.TryGetQueryVector(v1, new float[2]));

        // A model swap: same dimensions, new version. The stored vector is from the old factors.
        Assert.False(state.TryGetQueryVector(Vectors("v2"), new float[2]));
        Assert.False(state.TryGetQueryVector(Vectors("v1", dimensions: 3), new float[3]));

        // The history moved on without a refresh (a writer that does not refresh): the stored vector is stale.
        await store.ApplyAsync(new Interaction[] { new(3, 7, EventType.Click, Now.AddMinutes(-1).ToUnixTimeSeconds(), 0) }, default);
        state = await store.GetUserStateAsync(3, default);
        Assert.NotNull(state.StoredQueryVector);
        Assert.False(state.TryGetQueryVector(v1, new float[2]));
    }

    [Fact]
    public async Task Window_counts_sum_the_time_buckets_within_the_window()
    {
        var store = Create(Catalog(), new MovableClock(Now), Options());
        long T(double hoursAgo) => Now.AddHours(-hoursAgo).ToUnixTimeSeconds();
        await store.ApplyAsync(new Interaction[]
        {
            new(0, 7, EventType.Impression, T(0), 0),
            new(0, 7, EventType.Click, T(0.5), 0), new(1, 7, EventType.Click, T(0.5), 0),
            new(2, 7, EventType.Like, T(3), 0), new(2, 7, EventType.Dwell, T(3), 40),
            new(3, 7, EventType.Click, T(30), 0),
            new(4, 7, EventType.Click, T(60), 0), new(5, 7, EventType.Click, T(60), 0), // beyond the 48 h retention
            new(4, 8, EventType.Share, T(1), 0), // shares and hides are not windowed
        }, default);

        var counts = new ItemWindowCounts[2];
        await store.GetItemWindowCountsAsync(new[] { 7, 8 }, TimeSpan.FromHours(1), counts, default);
        Assert.Equal(new ItemWindowCounts(1, 2, 0, 0), counts[0]);
        Assert.Equal(default, counts[1]);
        await store.GetItemWindowCountsAsync(new[] { 7, 8 }, TimeSpan.FromHours(24), counts, default);
        Assert.Equal(new ItemWindowCounts(1, 2, 1, 40), counts[0]);
        await store.GetItemWindowCountsAsync(new[] { 7, 8 }, TimeSpan.FromHours(48), counts, default);
        Assert.Equal(new ItemWindowCounts(1, 3, 1, 40), counts[0]);

        var allTime = new ItemStats[1];
        await store.GetItemStatsAsync(new[] { 7 }, allTime, default);
        Assert.Equal(5, allTime[0].Clicks); // the all-time hash keeps everything
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await store.GetItemWindowCountsAsync(new[] { 7 }, TimeSpan.FromHours(49), counts, default));
    }

    [Fact]
    public async Task Trending_ranks_by_decayed_positive_events_per_language_and_refreshes()
    {
        var clock = new MovableClock(Now);
        var store = Create(Catalog(), clock, Options());
        var t = Now.ToUnixTimeSeconds();
        // Item 2 (en): 3 clicks now; item 4 (en): 5 clicks two days ago (worth 1.25 now); item 3 (de): 1 click; item 6: impressions only.
        await store.ApplyAsync(new Interaction[]
        {
            new(1, 2, EventType.Click, t, 0), new(2, 2, EventType.Click, t, 0), new(3, 2, EventType.Click, t, 0),
            new(1, 4, EventType.Click, t - 172_800, 0), new(2, 4, EventType.Click, t - 172_800, 0), new(3, 4, EventType.Click, t - 172_800, 0), new(4, 4, EventType.Click, t - 172_800, 0), new(5, 4, EventType.Click, t - 172_800, 0),
            new(1, 3, EventType.Click, t, 0),
            new(1, 6, EventType.Impression, t, 0),
        }, default);

        var top = new int[10];
        var n = await store.GetTrendingAsync(Locales.LanguageCode("en"), top, default);
        Assert.Equal([2, 4], top[..n]);
        n = await store.GetTrendingAsync(Locales.Unknown, top, default);
        Assert.Equal([2, 4, 3], top[..n]);

        // New events show up once the list is older than the refresh interval, not before.
        await store.ApplyAsync(new Interaction[] { new(5, 8, EventType.Like, t, 0), new(6, 8, EventType.Like, t, 0), new(7, 8, EventType.Like, t, 0), new(8, 8, EventType.Like, t, 0) }, default);
        n = await store.GetTrendingAsync(Locales.LanguageCode("en"), top, default);
        Assert.Equal([2, 4], top[..n]);
        clock.Now = Now.AddSeconds(6);
        n = await store.GetTrendingAsync(Locales.LanguageCode("en"), top, default);
        Assert.Equal([8, 2, 4], top[..n]);
    }

    [Fact]
    public async Task Trending_per_region_ranks_by_the_events_of_that_regions_users()
    {
        var store = Create(Catalog(), new MovableClock(Now), Options());
        var t = Now.ToUnixTimeSeconds();
        await store.ApplyAsync(new Interaction[]
        {
            // us users (even) like 2 and 4; de users (odd) like 3, three times over.
            new(0, 2, EventType.Click, t, 0), new(2, 2, EventType.Click, t, 0), new(4, 4, EventType.Click, t, 0),
            new(1, 3, EventType.Click, t, 0), new(3, 3, EventType.Click, t, 0), new(5, 3, EventType.Like, t, 0), new(7, 5, EventType.Impression, t, 0),
            new(15, 9, EventType.Click, t, 0), // a user the catalog does not hold: in the all-items list only
        }, default);
        var top = new int[10];
        var n = await store.GetTrendingInRegionAsync(Locales.RegionCode("us"), top, default);
        Assert.Equal([2, 4], top[..n]);
        n = await store.GetTrendingInRegionAsync(Locales.RegionCode("de"), top, default);
        Assert.Equal([3], top[..n]);
        n = await store.GetTrendingInRegionAsync(Locales.RegionCode("jp"), top, default);
        Assert.Equal(0, n);
        n = await store.GetTrendingInRegionAsync(Locales.Unknown, top, default);
        Assert.Equal([3, 2, 4, 9], top[..n]);
    }

    [Fact]
    public async Task The_trend_rescale_moves_the_origin_and_keeps_every_decayed_score()
    {
        var clock = new MovableClock(Now);
        var store = Create(Catalog(), clock, Options());
        var t = Now.ToUnixTimeSeconds();
        await store.ApplyAsync(new Interaction[] { new(0, 2, EventType.Click, t, 0), new(1, 4, EventType.Click, t - 86_400, 0) }, default);
        Assert.Equal(t, await TrendOriginAsync(store));
        Assert.False(await RescaleIfDueAsync(store)); // 0 half-lives: not due

        clock.Now = Now.AddDays(29);
        Assert.False(await RescaleIfDueAsync(store));
        clock.Now = Now.AddDays(31);
        await store.ApplyAsync(new Interaction[] { new(0, 6, EventType.Click, clock.Now.ToUnixTimeSeconds(), 0) }, default); // the writer rescales first
        Assert.Equal(clock.Now.ToUnixTimeSeconds(), await TrendOriginAsync(store));
        Assert.False(await RescaleIfDueAsync(store));

        var stats = new ItemStats[3];
        await store.GetItemStatsAsync(new[] { 2, 4, 6 }, stats, default);
        Assert.InRange(stats[0].TrendScore / Math.Pow(2, -31), 0.999, 1.001);
        Assert.InRange(stats[1].TrendScore / Math.Pow(2, -32), 0.999, 1.001);
        Assert.Equal(1f, stats[2].TrendScore, 4);
        var top = new int[5];
        clock.Now = clock.Now.AddSeconds(10); // past the trending list's refresh
        var n = await store.GetTrendingAsync(Locales.Unknown, top, default);
        Assert.Equal([6, 2, 4], top[..n]);
    }
}

public sealed class InMemoryOnlineStoreContractTests : OnlineStoreContract
{
    internal override IFeatureStore Create(ICatalog catalog, TimeProvider clock, FeaturesOptions options) =>
        new InMemoryFeatureStore(Microsoft.Extensions.Options.Options.Create(options), clock, catalog);

    internal override Task ExpireQueryVectorAsync(IFeatureStore store, int user, MovableClock clock, FeaturesOptions options)
    {
        clock.Now = clock.Now.AddMinutes(options.QueryVectorTtlMinutes - 1);
        Assert.NotNull(store.GetUserStateAsync(user, default).Result.StoredQueryVector); // still within the TTL
        clock.Now = clock.Now.AddMinutes(1).AddSeconds(1);
        return Task.CompletedTask;
    }

    internal override Task<long> TrendOriginAsync(IFeatureStore store) => Task.FromResult(((InMemoryFeatureStore)store).TrendOrigin);

    internal override Task<bool> RescaleIfDueAsync(IFeatureStore store) =>
        Task.FromResult(((InMemoryFeatureStore)store).RescaleIfDue());
}
