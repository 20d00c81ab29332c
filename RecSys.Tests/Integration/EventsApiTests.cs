using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using RecSys.Catalog;
using RecSys.Features;

namespace RecSys.Tests.Integration;

/// <summary><c>POST /events</c> and the feedback loop over the real HTTP pipeline, on the in-process bus.</summary>
public class EventsApiTests(RecSysFactory factory) : IClassFixture<RecSysFactory>
{
    internal static object Row(string eventId, string userId, string itemId, string type, double? value = null, DateTimeOffset? at = null) =>
        new { eventId, userId, itemId, type, value, timestamp = (at ?? DateTimeOffset.UtcNow).ToString("o"), context = new { device = "mobile", region = "us", language = "en" } };

    internal static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    internal static async Task<string[]> RecommendedAsync(HttpClient client, string userId, int count = 20)
    {
        var body = await JsonAsync(await client.GetAsync(new Uri($"/recommendations?userId={userId}&count={count}", UriKind.Relative)));
        return body.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("itemId").GetString()!).ToArray();
    }

    internal static async Task<ItemStats> StatsAsync(IServiceProvider services, string itemId)
    {
        var catalog = services.GetRequiredService<ICatalog>();
        Assert.True(catalog.TryGetItem(itemId, out var item));
        var stats = new ItemStats[1];
        await services.GetRequiredService<IFeatureStore>().GetItemStatsAsync(new[] { item.Index }, stats, default);
        return stats[0];
    }

    /// <summary>
    /// After a click on <paramref name="itemId"/> has been applied: the item heads the user's history (so the next query
    /// vector is folded in from it), is excluded as interacted (beyond the seen window), and is absent from the next answer.
    /// </summary>
    internal static async Task AssertClickFedBackAsync(HttpClient client, IServiceProvider services, string userId, string itemId)
    {
        var catalog = services.GetRequiredService<ICatalog>();
        Assert.True(catalog.TryGetUser(userId, out var user));
        Assert.True(catalog.TryGetItem(itemId, out var item));
        var state = await services.GetRequiredService<IFeatureStore>().GetUserStateAsync(user.Index, default);
        Assert.Equal(item.Index, state.RecentItems[0]);
        Assert.Contains(item.Index, state.InteractedItems);
        Assert.DoesNotContain(itemId, await RecommendedAsync(client, userId));
    }

    /// <summary>Polls until <paramref name="condition"/> holds; fails after <paramref name="seconds"/>.</summary>
    internal static async Task EventuallyAsync(Func<Task<bool>> condition, string what, double seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for: {what}");
            await Task.Delay(20);
        }
    }

    /// <summary>Posts a share of a marker item and waits until it is applied: everything posted before it is applied too (one ordered consumer).</summary>
    private async Task DrainAsync(HttpClient client, string markerItem)
    {
        var before = (await StatsAsync(factory.Services, markerItem)).Shares;
        using var response = await client.PostAsJsonAsync("/events", new { events = new[] { Row(Guid.NewGuid().ToString(), "u_399", markerItem, "share") } });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await EventuallyAsync(async () => (await StatsAsync(factory.Services, markerItem)).Shares == before + 1, "the marker event to be applied");
    }

    [Fact]
    public async Task A_click_changes_what_the_same_user_is_shown_next()
    {
        var client = await factory.ReadyClientAsync();
        var first = await RecommendedAsync(client, "u_5");
        var clicked = first[0];
        var clicksBefore = (await StatsAsync(factory.Services, clicked)).Clicks;

        using var response = await client.PostAsJsonAsync("/events", new { events = new[] { Row(Guid.NewGuid().ToString(), "u_5", clicked, "click") } });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(1, (await JsonAsync(response)).GetProperty("accepted").GetInt32());
        // Applied within a second; the served item would leave the next answer anyway (seen rule), so the test checks
        // what only the click does: the counter, the history the next query vector is folded from, the interacted set.
        await EventuallyAsync(async () => (await StatsAsync(factory.Services, clicked)).Clicks == clicksBefore + 1, "the click to be applied", seconds: 1);
        await AssertClickFedBackAsync(client, factory.Services, "u_5", clicked);
    }

    [Fact]
    public async Task A_batch_with_invalid_rows_is_refused_whole_with_each_rows_reason()
    {
        var client = await factory.ReadyClientAsync();
        var likesBefore = (await StatsAsync(factory.Services, "i_100")).Likes;
        var batch = new
        {
            events = new object[]
            {
                Row(Guid.NewGuid().ToString(), "u_7", "i_100", "like"),                       // valid, must not be applied
                Row(Guid.NewGuid().ToString(), "u_7", "i_100", "poke"),                       // unknown type
                Row(Guid.NewGuid().ToString(), "u_7", "i_99999999", "click"),                 // item not in the catalog
                Row(Guid.NewGuid().ToString(), "u_7", "i_100", "dwell"),                      // dwell without seconds
                Row(Guid.NewGuid().ToString(), "u_7", "i_100", "click", at: DateTimeOffset.UtcNow.AddDays(1)), // future
                new { userId = "u_7", itemId = "i_100", type = "click", timestamp = "yesterday" }, // no eventId, bad timestamp
            },
        };

        using var response = await client.PostAsJsonAsync("/events", batch);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await JsonAsync(response)).GetProperty("errors");
        var keys = errors.EnumerateObject().Select(p => p.Name).Order().ToArray();
        Assert.Equal(new[] { "events[1].type", "events[2].itemId", "events[3].value", "events[4].timestamp", "events[5].eventId", "events[5].timestamp" }, keys);
        Assert.Contains("poke", errors.GetProperty("events[1].type")[0].GetString(), StringComparison.Ordinal);
        Assert.StartsWith("row 2:", errors.GetProperty("events[2].itemId")[0].GetString(), StringComparison.Ordinal);

        await DrainAsync(client, "i_2998");
        Assert.Equal(likesBefore, (await StatsAsync(factory.Services, "i_100")).Likes);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"events\": []}")]
    [InlineData("{\"events\": 3}")]
    [InlineData("not json")]
    public async Task A_body_that_is_not_a_batch_is_a_400_problem(string body)
    {
        var client = await factory.ReadyClientAsync();
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        using var response = await client.PostAsync(new Uri("/events", UriKind.Relative), content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await JsonAsync(response)).GetProperty("errors").EnumerateObject().Any());
    }

    [Fact]
    public async Task A_batch_over_the_limit_is_refused()
    {
        var client = await factory.ReadyClientAsync();
        var rows = Enumerable.Range(0, 1001).Select(i => Row($"big-{i}", "u_8", "i_1", "view")).ToArray();
        using var response = await client.PostAsJsonAsync("/events", new { events = rows });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("1001", (await JsonAsync(response)).GetProperty("errors").GetProperty("events")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resending_an_event_id_changes_nothing()
    {
        var client = await factory.ReadyClientAsync();
        var before = (await StatsAsync(factory.Services, "i_200")).Likes;
        var id = Guid.NewGuid().ToString();
        for (var i = 0; i < 3; i++)
        {
            using var response = await client.PostAsJsonAsync("/events", new { events = new[] { Row(id, "u_9", "i_200", "like"), Row(id, "u_9", "i_200", "like") } });
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
        await DrainAsync(client, "i_2997");
        Assert.Equal(before + 1, (await StatsAsync(factory.Services, "i_200")).Likes);
    }

    [Fact]
    public async Task Every_answer_emits_an_impression_that_counts_and_marks_the_items_seen()
    {
        var client = await factory.ReadyClientAsync();
        var catalog = factory.Services.GetRequiredService<ICatalog>();
        var store = factory.Services.GetRequiredService<IFeatureStore>();
        Assert.True(catalog.TryGetUser("u_11", out var user));

        var served = await RecommendedAsync(client, "u_11", 10);

        Assert.Equal(10, served.Length);
        var indexes = served.Select(id => catalog.TryGetItem(id, out var item) ? item.Index : -1).ToArray();
        await EventuallyAsync(async () => indexes.All((await store.GetUserStateAsync(user.Index, default)).SeenItems.Contains), "the served items to be in u_11's seen set", seconds: 2);

        // The next answer skips what was just served (the seen rule) and counts one impression for each item it shows
        // (tests of this class run one at a time). The world is small, so every item's counter is read before it.
        var all = Enumerable.Range(0, catalog.Columns.Count).ToArray();
        var before = new ItemStats[all.Length];
        await store.GetItemStatsAsync(all, before, default);
        var again = await RecommendedAsync(client, "u_11", 10);
        Assert.NotEmpty(again);
        Assert.Empty(again.Intersect(served));
        foreach (var id in again)
        {
            Assert.True(catalog.TryGetItem(id, out var item));
            await EventuallyAsync(async () => (await StatsAsync(factory.Services, id)).Impressions == before[item.Index].Impressions + 1, $"one more impression of {id}", seconds: 2);
        }
        var health = await JsonAsync(await client.GetAsync(new Uri("/health/ready", UriKind.Relative)));
        Assert.Equal("Healthy", health.GetProperty("checks").GetProperty("events").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Swagger_documents_the_batch_shape_and_the_answers()
    {
        var client = await factory.ReadyClientAsync();
        var doc = await JsonAsync(await client.GetAsync(new Uri("/swagger/v1/swagger.json", UriKind.Relative)));
        var post = doc.GetProperty("paths").GetProperty("/events").GetProperty("post");
        Assert.True(post.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json", out _));
        foreach (var status in new[] { "202", "400", "503" }) Assert.True(post.GetProperty("responses").TryGetProperty(status, out _), status);
        var row = doc.GetProperty("components").GetProperty("schemas").GetProperty("EventRequest").GetProperty("properties");
        foreach (var field in new[] { "eventId", "userId", "itemId", "type", "value", "requestId", "timestamp", "context" }) Assert.True(row.TryGetProperty(field, out _), field);
    }
}
