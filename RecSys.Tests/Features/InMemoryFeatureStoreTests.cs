using Microsoft.Extensions.Options;
using RecSys.Catalog;
using RecSys.Events;
using RecSys.Features;
using RecSys.Features.Memory;

namespace RecSys.Tests.Features;

public class InMemoryFeatureStoreTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    private static InMemoryFeatureStore Store(int history = 3, TimeProvider? clock = null, ICatalog? catalog = null) =>
        new(Options.Create(new FeaturesOptions { RecentHistoryLength = history, TrendHalfLifeHours = 24, SeenWindowMinutes = 60, TrendingRefreshSeconds = 5 }),
            clock ?? new TestWorld.FixedClock(Now), catalog ?? LanguageCatalog(20));

    /// <summary>A catalog whose even items are English and odd items German.</summary>
    private static ICatalog LanguageCatalog(int items)
    {
        var catalog = new RecSys.Catalog.Memory.InMemoryCatalog();
        catalog.Load(new CatalogSnapshot("t", Enumerable.Range(0, items).Select(i => new Item(i, $"i_{i}", "t", 0, "c", 0, Now, 0, false, "us", i % 2 == 0 ? "en" : "de", "")).ToList(),
            [new UserProfile(0, "u_0", 30, "us", "en", false, 10)], ["c"]));
        return catalog;
    }

    private sealed class MovableClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public async Task Keeps_the_most_recent_positive_items_first_and_remembers_every_interaction()
    {
        var store = Store(history: 3);
        var t = Now.ToUnixTimeSeconds();
        await store.ApplyAsync(new Interaction[]
        {
            new(1, 10, EventType.Impression, t - 50, 0),
            new(1, 10, EventType.Click, t - 40, 0),
            new(1, 10, EventType.Like, t - 39, 0), // same item again: one history entry
            new(1, 11, EventType.Click, t - 30, 0),
            new(1, 12, EventType.Hide, t - 25, 0),
            new(1, 13, EventType.Dwell, t - 20, 30),
            new(1, 14, EventType.Share, t - 10, 0),
        }, default);

        var state = await store.GetUserStateAsync(1, default);

        Assert.Equal([14, 13, 11], state.RecentItems); // capped at 3, most recent first, the hide is not a taste signal
        Assert.Equal(new HashSet<int> { 10, 11, 12, 13, 14 }, state.InteractedItems.ToHashSet());
        Assert.Equal(t - 10, state.LastEventUnixSeconds);
        Assert.Same(UserOnlineState.Empty, await store.GetUserStateAsync(2, default));
    }

    [Fact]
    public async Task Counts_item_events_and_decays_the_trend_score()
    {
        var store = Store();
        var t = Now.ToUnixTimeSeconds();
        await store.ApplyAsync(new Interaction[]
        {
            new(1, 5, EventType.Impression, t, 0),
            new(2, 5, EventType.Impression, t, 0),
            new(1, 5, EventType.Click, t, 0),
            new(1, 5, EventType.Dwell, t, 42),
            new(2, 6, EventType.Click, t - (24 * 3600), 0), // one half-life old
        }, default);

        var stats = new ItemStats[2];
        await store.GetItemStatsAsync(new[] { 5, 6 }, stats, default);

        Assert.Equal(2, stats[0].Impressions);
        Assert.Equal(1, stats[0].Clicks);
        Assert.Equal(42, stats[0].DwellSeconds);
        Assert.Equal(2f, stats[0].TrendScore, 3); // click + dwell, both now
        Assert.Equal(0.5f, stats[1].TrendScore, 3);
    }

    [Fact]
    public async Task Served_items_stay_seen_for_the_window_only()
    {
        var clock = new MovableClock(Now);
        var store = Store(clock: clock);
        await store.MarkSeenAsync(3, new[] { 7, 8 }, Now.ToUnixTimeSeconds(), default);
        await store.MarkSeenAsync(3, new[] { 9 }, Now.AddMinutes(30).ToUnixTimeSeconds(), default);

        clock.Now = Now.AddMinutes(45);
        Assert.Equal(new HashSet<int> { 7, 8, 9 }, (await store.GetUserStateAsync(3, default)).SeenItems.ToHashSet());

        clock.Now = Now.AddMinutes(61);
        Assert.Equal(new HashSet<int> { 9 }, (await store.GetUserStateAsync(3, default)).SeenItems.ToHashSet());
        Assert.Empty((await store.GetUserStateAsync(3, default)).RecentItems); // seen is not history
    }
}
