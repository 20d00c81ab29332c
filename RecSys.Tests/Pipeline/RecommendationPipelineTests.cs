using Microsoft.Extensions.DependencyInjection;
using RecSys.Catalog;
using RecSys.Experiments;
using RecSys.Features;
using RecSys.Pipeline;
using RecSys.Ranking;
using RecSys.ReRanking;
using RecSys.Retrieval;

namespace RecSys.Tests.Pipeline;

public class RecommendationPipelineTests
{
    private static RecommendationRequest Request(string userId, int count = 20) => new("test", userId, count);

    [Fact]
    public async Task Returns_count_unique_eligible_items_within_the_category_cap()
    {
        var world = TestWorld.Small;
        using var services = await TestWorld.CreateServicesAsync(world);
        var pipeline = services.GetRequiredService<RecommendationPipeline>();
        var store = services.GetRequiredService<IFeatureStore>();
        var graph = services.GetRequiredService<ISocialGraph>();
        var checkedUsers = 0;

        foreach (var user in world.Users.Take(60))
        {
            var result = await pipeline.RecommendAsync(Request(user.Id), default);
            var history = await store.GetUserStateAsync(user.Index, default);
            var social = await graph.GetContextAsync(user.Index, default);

            Assert.Equal(20, result.Items.Count);
            Assert.Equal(20, result.Items.Select(i => i.Item.Index).Distinct().Count());
            Assert.All(result.Items.GroupBy(i => i.Item.CategoryId), g => Assert.True(g.Count() <= 3));
            Assert.All(result.Items, i =>
            {
                Assert.False(i.Item.IsNsfw && !user.AllowNsfw, "NSFW item for a user who disallows it");
                Assert.False(social.HasBlocked(i.Item.AuthorIndex), "item by a blocked author");
                Assert.DoesNotContain(i.Item.Index, history.InteractedItems);
            });
            Assert.Equal(Enumerable.Range(1, 20), result.Items.Select(i => i.Rank));
            Assert.Empty(result.Degraded);
            if (history.HasHistory) { Assert.False(result.ColdStart); checkedUsers++; }
        }
        Assert.True(checkedUsers > 30);
    }

    [Fact]
    public async Task Items_come_out_in_ranker_order_within_the_caps()
    {
        var world = TestWorld.Small;
        using var services = await TestWorld.CreateServicesAsync(world);
        var result = await services.GetRequiredService<RecommendationPipeline>().RecommendAsync(Request(world.Users[5].Id), default);

        var scores = result.Items.Select(i => i.Score).ToArray();
        Assert.Equal(scores.OrderByDescending(s => s), scores);
        Assert.All(result.Items, i => Assert.True(i.RankBeforeReRanking >= i.Rank));
        Assert.True(result.Timings.Total >= result.Timings.Candidates);
    }

    [Fact]
    public async Task Personal_lists_follow_the_users_taste()
    {
        // Two users with different histories get different lists, each closer to their own history than to the other's.
        var world = TestWorld.Small;
        using var services = await TestWorld.CreateServicesAsync(world);
        var pipeline = services.GetRequiredService<RecommendationPipeline>();
        var a = await pipeline.RecommendAsync(Request(world.Users[1].Id), default);
        var b = await pipeline.RecommendAsync(Request(world.Users[2].Id), default);

        var overlap = a.Items.Select(i => i.Item.Index).Intersect(b.Items.Select(i => i.Item.Index)).Count();
        Assert.True(overlap < 10, $"lists overlap in {overlap} items");
    }

    [Fact]
    public async Task An_unknown_user_gets_a_cold_start_list_in_the_requested_language()
    {
        // The small world has about 300 French items; a cold-start list of 100 candidates fits inside the language.
        var world = TestWorld.Small;
        using var services = await TestWorld.CreateServicesAsync(world, settings: new Dictionary<string, string?> { ["Retrieval:ColdStartCount"] = "100" });
        var result = await services.GetRequiredService<RecommendationPipeline>().RecommendAsync(
            new RecommendationRequest("t", "someone-new", 10, DeviceType.Mobile, "fr", "fr"), default);

        Assert.True(result.ColdStart);
        Assert.Equal(10, result.Items.Count);
        Assert.All(result.Items, i => Assert.Equal("fr", i.Item.Language));
        Assert.All(result.Items, i => Assert.False(i.Item.IsNsfw)); // unknown users never see NSFW
    }

    private sealed class BrokenRanker : IRanker
    {
        public string ModelVersion => "broken";
        public ValueTask ScoreAsync(FeatureMatrix features, Memory<float> scores, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("model crashed");
    }

    private sealed class SlowRanker : IRanker
    {
        public string ModelVersion => "slow";
        public async ValueTask ScoreAsync(FeatureMatrix features, Memory<float> scores, CancellationToken cancellationToken) =>
            await Task.Delay(TimeSpan.FromSeconds(30), cancellationToken);
    }

    [Theory]
    [InlineData(typeof(BrokenRanker))]
    [InlineData(typeof(SlowRanker))]
    public async Task A_failing_or_slow_ranker_degrades_to_retrieval_order(Type rankerType)
    {
        var world = TestWorld.Small;
        using var services = await TestWorld.CreateServicesAsync(world,
            s => s.AddSingleton(typeof(IRanker), rankerType),
            new Dictionary<string, string?> { ["Pipeline:DeadlineMilliseconds"] = "200" });

        var result = await services.GetRequiredService<RecommendationPipeline>().RecommendAsync(Request(world.Users[1].Id), default);

        Assert.Equal([Degradations.Ranker], result.Degraded);
        Assert.Equal(20, result.Items.Count);
        // Retrieval order: scores are the retrieval similarities, best first.
        Assert.All(result.Items, i => Assert.Equal(i.RetrievalScore, i.Score));
        Assert.True(result.Timings.Total < 5_000);
    }

    [Fact]
    public async Task Refuses_to_serve_before_loading()
    {
        var services = new ServiceCollection();
        var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build();
        services.AddLogging();
        services.AddCatalog(configuration).AddFeatures(configuration).AddRetrieval(configuration).AddRanking(configuration)
            .AddReRanking(configuration).AddExperiments(configuration).AddPipeline(configuration);
        await using var provider = services.BuildServiceProvider();
        var pipeline = provider.GetRequiredService<RecommendationPipeline>();

        Assert.False(pipeline.IsReady);
        await Assert.ThrowsAsync<ServiceNotReadyException>(() => pipeline.RecommendAsync(Request("u_1"), default));
    }
}
