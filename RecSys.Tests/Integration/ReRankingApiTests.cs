using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using RecSys.Experiments;

namespace RecSys.Tests.Integration;

/// <summary>Explanations, experiments and the admin-only variant override over the real HTTP pipeline.</summary>
public sealed class ReRankingApiTests(RecSysFactory baseFactory) : IClassFixture<RecSysFactory>
{
    private const string AdminKey = "test-admin-key";

    private WebApplicationFactory<Program> Factory() => baseFactory.WithWebHostBuilder(b =>
    {
        b.UseSetting("Admin:Key", AdminKey);
        b.UseSetting("Experiments:Running:0:Name", "test-exp");
        b.UseSetting("Experiments:Running:0:Salt", "salt-1");
        b.UseSetting("Experiments:Running:0:TrafficShare", "1");
        b.UseSetting("Experiments:Running:0:Variants:0:Name", "a");
        b.UseSetting("Experiments:Running:0:Variants:1:Name", "b");
        b.UseSetting("Experiments:Running:0:Variants:1:ReRankingRules:0:Type", "seen");
    });

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    private static async Task<HttpClient> ReadyAsync(WebApplicationFactory<Program> factory)
    {
        var client = factory.CreateClient();
        for (var i = 0; i < 600; i++)
        {
            using var ready = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));
            if (ready.IsSuccessStatusCode) return client;
            await Task.Delay(100);
        }
        throw new TimeoutException("the service did not become ready");
    }

    [Fact]
    public async Task Explanations_name_the_sources_the_scores_per_stage_the_rank_before_and_a_reason()
    {
        var client = await baseFactory.ReadyClientAsync();
        using var response = await client.GetAsync(new Uri("/recommendations?userId=u_7&count=10&explain=true", UriKind.Relative));
        var body = await JsonAsync(response);
        var items = body.GetProperty("items").EnumerateArray().ToArray();
        Assert.Equal(10, items.Length);
        var ranksBefore = new HashSet<int>();
        var rankedScores = new List<float>();
        var droppedScores = new List<float>();
        foreach (var item in items)
        {
            var e = item.GetProperty("explanation");
            var sources = e.GetProperty("sources").EnumerateArray().Select(s => s.GetString()).ToArray();
            Assert.Contains(item.GetProperty("source").GetString(), sources);
            var scores = e.GetProperty("scores");
            var preRanker = scores.GetProperty("preRanker").GetSingle();
            Assert.InRange(preRanker, 0f, 1f);
            if (scores.GetProperty("ranker").ValueKind == JsonValueKind.Null)
            {
                // The pre-ranker dropped its row (the re-ranking's hard rules reached below the kept ones): the main
                // ranker never scored it, and its final order comes from below every kept row.
                droppedScores.Add(item.GetProperty("score").GetSingle());
            }
            else
            {
                // Kept: the ranker's score is the item's; the built-in pre-ranker and ranker share their weights.
                Assert.Equal(item.GetProperty("score").GetSingle(), scores.GetProperty("ranker").GetSingle());
                Assert.Equal(scores.GetProperty("ranker").GetSingle(), preRanker, 1e-5);
                rankedScores.Add(item.GetProperty("score").GetSingle());
            }
            Assert.True(scores.TryGetProperty("retrieval", out _) && scores.TryGetProperty("final", out _));
            Assert.True(ranksBefore.Add(e.GetProperty("rankBeforeReRanking").GetInt32()));
            Assert.Equal(JsonValueKind.Array, e.GetProperty("rules").ValueKind);
            Assert.False(string.IsNullOrWhiteSpace(e.GetProperty("reason").GetString()));
        }
        Assert.NotEmpty(rankedScores);
        if (droppedScores.Count > 0) Assert.True(droppedScores.Max() < rankedScores.Min(), "rows the pre-ranker dropped order below every kept one");
    }

    [Fact]
    public async Task Experiments_are_listed_and_users_carry_their_variant_into_the_response()
    {
        await using var factory = Factory();
        var client = await ReadyAsync(factory);
        var list = await JsonAsync(await client.GetAsync(new Uri("/experiments", UriKind.Relative)));
        var experiment = list.EnumerateArray().Single(e => e.GetProperty("name").GetString() == "test-exp");
        Assert.Equal(1.0, experiment.GetProperty("trafficShare").GetDouble());
        Assert.Equal(["a", "b"], experiment.GetProperty("variants").EnumerateArray().Select(v => v.GetProperty("name").GetString()));

        var expected = factory.Services.GetRequiredService<IExperiments>().Assign("u_5")!.Label;
        var body = await JsonAsync(await client.GetAsync(new Uri("/recommendations?userId=u_5&count=3", UriKind.Relative)));
        Assert.Equal(expected, body.GetProperty("experimentVariant").GetString());
        Assert.StartsWith("test-exp/", expected, StringComparison.Ordinal);

        // The impression of an answer carries the same variant.
        var request = new RecSys.Pipeline.RecommendationRequest("r1", "u_5", 3);
        var result = await factory.Services.GetRequiredService<RecSys.Pipeline.RecommendationPipeline>().RecommendAsync(request, default);
        Assert.Equal(expected, result.ExperimentVariant);
        Assert.Equal(expected, RecSys.Api.Endpoints.EventsApi.ToImpression(result, request, DateTimeOffset.UnixEpoch).ExperimentVariant);
    }

    [Fact]
    public async Task Forcing_a_variant_needs_the_admin_key_and_a_running_variant()
    {
        await using var factory = Factory();
        var client = await ReadyAsync(factory);

        using var anonymous = await client.GetAsync(new Uri("/recommendations?userId=u_5&variant=test-exp/b", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Forbidden, anonymous.StatusCode);
        Assert.Equal("application/problem+json", anonymous.Content.Headers.ContentType?.MediaType);

        foreach (var label in new[] { "test-exp/a", "test-exp/b" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"/recommendations?userId=u_5&count=3&variant={label}", UriKind.Relative));
            request.Headers.Add("X-Admin-Key", AdminKey);
            using var forced = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, forced.StatusCode);
            Assert.Equal(label, (await JsonAsync(forced)).GetProperty("experimentVariant").GetString());
        }

        using var unknown = new HttpRequestMessage(HttpMethod.Get, new Uri("/recommendations?userId=u_5&variant=test-exp/zzz", UriKind.Relative));
        unknown.Headers.Add("X-Admin-Key", AdminKey);
        using var refused = await client.SendAsync(unknown);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.True((await JsonAsync(refused)).GetProperty("errors").TryGetProperty("variant", out _));
    }
}
