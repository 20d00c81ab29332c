using Microsoft.Extensions.DependencyInjection;
using RecSys.Catalog;
using RecSys.Pipeline;
using RecSys.ReRanking;

namespace RecSys.Tests.ReRanking;

/// <summary>Users without history: popular-in-region candidates blended (the context rule) with a vector from region, language and declared interests.</summary>
public class ColdStartTests
{
    private static RecommendationRequest Unknown(string? region, string? language, params string[] interests) =>
        new("r", "nobody-" + Guid.NewGuid().ToString("N"), 20, Region: region, Language: language, Interests: interests.Length == 0 ? null : interests);

    [Fact]
    public async Task A_cold_start_user_gets_items_of_their_language_and_region()
    {
        var world = TestWorld.Small;
        using var services = await TestWorld.CreateServicesAsync(world);
        var pipeline = services.GetRequiredService<RecommendationPipeline>();
        foreach (var (region, language) in new[] { ("de", "de"), ("jp", "ja"), ("fr", "fr") })
        {
            var result = await pipeline.RecommendAsync(Unknown(region, language), default);
            Assert.True(result.ColdStart);
            Assert.Equal(20, result.Items.Count);
            var share = world.Items.Count(i => i.Language == language) / (double)world.Items.Count;
            var inLanguage = result.Items.Count(i => i.Item.Language == language) / 20.0;
            Assert.True(inLanguage >= 0.6 && inLanguage > 2 * share, $"{language}: {inLanguage:P0} of the list vs {share:P0} of the catalog");
        }
    }

    [Fact]
    public async Task Declared_interests_pull_the_list_toward_those_categories()
    {
        // Without the category cap, which would hold any category to 3 items whatever the interests.
        var world = TestWorld.Small;
        using var services = await TestWorld.CreateServicesAsync(world, settings: new Dictionary<string, string?>
        {
            ["ReRanking:Rules:0:Type"] = "context", ["ReRanking:Rules:0:Weight"] = "1", ["ReRanking:Rules:1:Type"] = "safety",
        });
        var pipeline = services.GetRequiredService<RecommendationPipeline>();
        var wins = 0;
        foreach (var category in world.Categories.Take(6))
        {
            var plain = await pipeline.RecommendAsync(Unknown("us", "en"), default);
            var interested = await pipeline.RecommendAsync(Unknown("us", "en", category), default);
            if (interested.Items.Count(i => i.Item.Category == category) > plain.Items.Count(i => i.Item.Category == category)) wins++;
        }
        Assert.True(wins >= 5, $"interests raised their category's share in {wins} of 6 categories");
    }

    [Fact]
    public async Task No_context_means_no_vector_and_unknown_categories_are_not_interests()
    {
        using var services = await TestWorld.CreateServicesAsync(TestWorld.Small);
        var query = services.GetRequiredService<ColdStartQuery>();
        var vector = new float[TestWorld.Small.Dimensions];
        Assert.False(query.TryBuild(Locales.Unknown, Locales.Unknown, null, vector));
        Assert.False(query.TryBuild(Locales.Unknown, Locales.Unknown, ["no-such-category"], vector));
        Assert.True(query.TryBuild(Locales.Unknown, Locales.Unknown, [TestWorld.Small.Categories[0]], vector));
        Assert.Equal(1f, System.Numerics.Tensors.TensorPrimitives.Norm(vector), 3);
        Assert.True(query.IsKnownCategory(TestWorld.Small.Categories[0].ToUpperInvariant()));
    }
}
