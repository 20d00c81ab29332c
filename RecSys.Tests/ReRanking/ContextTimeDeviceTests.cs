using System.Net.Http.Json;
using System.Numerics.Tensors;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using RecSys.Catalog;
using RecSys.Events;
using RecSys.Features;
using RecSys.ReRanking;
using RecSys.Retrieval;
using RecSys.Tests.Integration;

namespace RecSys.Tests.ReRanking;

/// <summary>
/// Device and hour of day in the cold-start query vector: centroids of what was engaged on a device or at an hour,
/// seeded from the demo log and moved by the events the service applies.
/// </summary>
public class ContextTimeDeviceTests
{
    private static float[] Centroid(ItemEmbeddings embeddings, IEnumerable<int> items)
    {
        var sum = new float[embeddings.Dimensions];
        foreach (var i in items) TensorPrimitives.Add(sum, embeddings.Vector(i), sum);
        return sum;
    }

    [Fact]
    public async Task Events_on_a_device_and_at_an_hour_pull_the_cold_start_vector_toward_what_they_engaged()
    {
        var world = TestWorld.Small;
        using var services = await TestWorld.CreateServicesAsync(world);
        var query = services.GetRequiredService<ColdStartQuery>();
        var engagement = services.GetRequiredService<ContextEngagement>();
        var embeddings = services.GetRequiredService<ItemEmbeddingStore>().Current!;
        Assert.True(engagement.Generation > 0); // seeded from the demo log
        var us = Locales.RegionCode("us");
        var en = Locales.LanguageCode("en");

        // Crafted engagement: category 3 clicked on tablets by users in Britain at 12:00 UTC (noon there), category 5
        // liked by users in Japan at 12:00 UTC (21:00 there, no device): the hour buckets are the users' local hours.
        var onTablet = world.Items.Where(i => i.CategoryId == 3).Select(i => i.Index).ToArray();
        var atNight = world.Items.Where(i => i.CategoryId == 5).Select(i => i.Index).ToArray();
        var random = new Random(4);
        for (var k = 0; k < 1500; k++)
        {
            engagement.Observe(new Interaction(k % world.Users.Count, onTablet[random.Next(onTablet.Length)], EventType.Click, 12 * 3600, 0), "tablet", "gb");
            engagement.Observe(new Interaction(k % world.Users.Count, atNight[random.Next(atNight.Length)], EventType.Like, 12 * 3600, 0), null, "jp");
        }
        query.RefreshContext();

        float Cosine(DeviceType device, int hour, int[] toward)
        {
            var vector = new float[embeddings.Dimensions];
            Assert.True(query.TryBuild(us, en, null, device, hour, vector));
            return TensorPrimitives.CosineSimilarity(vector, Centroid(embeddings, toward));
        }

        Assert.True(Cosine(DeviceType.Tablet, 9, onTablet) > Cosine(DeviceType.Desktop, 9, onTablet) + 0.1, "tablet vs desktop");
        Assert.True(Cosine(DeviceType.Unknown, 21, atNight) > Cosine(DeviceType.Unknown, 9, atNight) + 0.1, "21:00 vs 09:00");
        Assert.True(Cosine(DeviceType.Unknown, 21, atNight) > Cosine(DeviceType.Unknown, 12, atNight) + 0.1, "local 21:00 vs 12:00 (the events' UTC hour)");
        // Without any region, language or interest, the device alone still says something.
        Assert.True(query.TryBuild(Locales.Unknown, Locales.Unknown, null, DeviceType.Tablet, null, new float[embeddings.Dimensions]));
        Assert.False(query.TryBuild(Locales.Unknown, Locales.Unknown, null, DeviceType.Desktop, null, new float[embeddings.Dimensions])); // no desktop events
    }

    [Fact]
    public async Task Over_HTTP_a_cold_start_list_shifts_toward_items_engaged_on_the_requests_device_and_hour()
    {
        // The context rule alone, weighted so that it dominates the ranker (no category cap), so the list shows where
        // the context vector points.
        await using var factory = new ServiceFactory(b => b
            .UseSetting("ReRanking:Rules:0:Type", "context")
            .UseSetting("ReRanking:Rules:0:Weight", "5")
            .UseSetting("ReRanking:Rules:0:LocaleWeight", "0.5")
            .UseSetting("ReRanking:Rules:1:Type", "safety"));
        var client = await factory.ReadyClientAsync();
        var catalog = factory.Services.GetRequiredService<ICatalog>();
        var engagement = factory.Services.GetRequiredService<ContextEngagement>();
        var items = Enumerable.Range(0, catalog.ItemCount).Select(catalog.GetItem).Where(i => i.Language == "en" && !i.IsNsfw).ToArray();
        var tabletCategory = items.GroupBy(i => i.Category).OrderBy(g => g.Key, StringComparer.Ordinal).ElementAt(2);
        var nightCategory = items.GroupBy(i => i.Category).OrderBy(g => g.Key, StringComparer.Ordinal).ElementAt(6);

        var embeddings = factory.Services.GetRequiredService<ItemEmbeddingStore>().Current!;

        // How many of the engaged items a cold-start list of 20 holds, and the mean cosine of its items to their centroid
        // (the measure asserted: with the context rule dominant, the list follows the context vector in vector space).
        async Task<(int Count, float Similarity)> ListAsync(Item[] engaged, string parameters)
        {
            var body = JsonDocument.Parse(await client.GetStringAsync(new Uri($"/recommendations?userId=new-{Guid.NewGuid():N}&count=20&region=us&language=en&{parameters}", UriKind.Relative))).RootElement;
            Assert.True(body.GetProperty("coldStart").GetBoolean());
            var ids = engaged.Select(i => i.Id).ToHashSet();
            var centroid = Centroid(embeddings, engaged.Select(i => i.Index));
            var listed = body.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("itemId").GetString()!).ToArray();
            var similarity = listed.Average(id => catalog.TryGetItem(id, out var item) ? TensorPrimitives.CosineSimilarity(embeddings.Vector(item.Index), centroid) : 0f);
            return (listed.Count(ids.Contains), similarity);
        }

        // 1,000 clicks from tablets on 15 items of one category at 13:00, and 2,000 at 03:00, both in each user's own
        // region (the events carry UTC; the buckets are local hours), from no device on 15 items of another (the demo log already fills every
        // hour; no event of it has a device).
        var random = new Random(11);
        var tablet = tabletCategory.OrderBy(_ => random.Next()).Take(15).ToArray();
        var night = nightCategory.OrderBy(_ => random.Next()).Take(15).ToArray();
        var before = engagement.Generation;
        for (var batch = 0; batch < 3; batch++)
        {
            var events = Enumerable.Range(0, 1000).Select(k =>
            {
                var onTablet = k % 3 == 0;
                var item = onTablet ? tablet[random.Next(tablet.Length)] : night[random.Next(night.Length)];
                var userId = $"u_{random.Next(400)}";
                Assert.True(catalog.TryGetUser(userId, out var user));
                // Local 13:00 for the tablet clicks, local 03:00 for the others: the compared hours (15 and 3) never
                // have the tablet clicks in their own or neighbouring buckets.
                var at = new DateTimeOffset(2026, 10, 20, onTablet ? 13 : 3, 0, 0, TimeSpan.Zero).AddMinutes(-Locales.UtcOffsetMinutes(Locales.RegionCode(user.Region)));
                return new
                {
                    eventId = Guid.NewGuid().ToString(), userId, itemId = item.Id, type = "click",
                    timestamp = at.AddMinutes(random.Next(50)), context = onTablet ? new { device = "tablet" } : null,
                };
            }).ToArray();
            using var posted = await client.PostAsJsonAsync("/events", new { events });
            Assert.Equal(System.Net.HttpStatusCode.Accepted, posted.StatusCode);
        }
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (engagement.Generation < before + 3000 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.True(engagement.Generation >= before + 3000, "the consumer applied the events");
        factory.Services.GetRequiredService<ColdStartQuery>().RefreshContext(); // rather than wait for the background rebuild

        // Same events seen by both sides of each comparison (trending moved for both); only the context differs.
        var onTablet = await ListAsync(tablet, "device=tablet&hour=15");
        var onDesktop = await ListAsync(tablet, "device=desktop&hour=15");
        var atNight = await ListAsync(night, "hour=3");
        var atDay = await ListAsync(night, "hour=15");
        Assert.True(onTablet.Similarity > onDesktop.Similarity + 0.08,
            $"tablet list: {onTablet.Count} engaged items, similarity {onTablet.Similarity:0.000}; desktop list: {onDesktop.Count}, {onDesktop.Similarity:0.000}");
        Assert.True(atNight.Similarity > atDay.Similarity + 0.08,
            $"03:00 list: {atNight.Count} engaged items, similarity {atNight.Similarity:0.000}; 15:00 list: {atDay.Count}, {atDay.Similarity:0.000}");

        using var bad = await client.GetAsync(new Uri("/recommendations?userId=u_1&hour=24", UriKind.Relative));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("hour", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
