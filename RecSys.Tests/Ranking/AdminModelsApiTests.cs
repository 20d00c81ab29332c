using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using RecSys.Ranking.Onnx;

using RecSys.Tests.Integration;

namespace RecSys.Tests.Ranking;

/// <summary>The admin endpoints and the pipeline over a models folder, through the real HTTP pipeline.</summary>
public sealed class AdminModelsApiTests : IDisposable
{
    private static readonly string[] Features = ["ann_similarity", "item_ctr", "user_category_affinity", "language_match", "item_popularity", "friend_post", "item_freshness_hours"];
    private static readonly Dictionary<string, double> Weights = new() { ["p_click"] = 1.0, ["dwell"] = 0.05 };

    private readonly ModelFolder _folder = new();

    private ServiceFactory Service() => new(b => b.UseModels(_folder.Root, AdminKey).UseSetting("Ranking:PreRankKeep", "100"));

    public void Dispose() => _folder.Dispose();

    private const string AdminKey = "ops-key";

    private static RankerNetwork Ranker(int seed) =>
        RankerNetwork.Random(Features.Length, 1, [16], [("p_click", HeadActivation.Sigmoid), ("dwell", HeadActivation.Identity)], seed);

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) => JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    [Fact]
    public async Task Serves_the_manifests_schema_reloads_a_new_version_and_refuses_a_bad_one()
    {
        _folder.Write("2026-11-20", Features, RankerNetwork.Random(Features.Length, 0, [], [("score", HeadActivation.Sigmoid)], 1), Ranker(2), Weights);
        await using var factory = Service();
        var client = await factory.ReadyClientAsync();
        client.DefaultRequestHeaders.Add("X-Admin-Key", AdminKey);

        var models = await JsonAsync(await client.GetAsync(new Uri("/admin/models", UriKind.Relative)));
        Assert.Equal("2026-11-20", models.GetProperty("version").GetString());
        Assert.Equal(Features, models.GetProperty("features").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal(["pre-ranker", "ranker"], models.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("role").GetString()));
        Assert.Equal("cpu", models.GetProperty("executionProvider").GetString());

        // The pipeline assembles rows in the manifest's 7-feature schema and ranks with the ONNX models.
        var recommendation = await JsonAsync(await client.GetAsync(new Uri("/recommendations?userId=u_5&count=10", UriKind.Relative)));
        Assert.Equal("2026-11-20", recommendation.GetProperty("modelVersion").GetString());
        Assert.Equal(0, recommendation.GetProperty("degraded").GetArrayLength());
        Assert.Equal(10, recommendation.GetProperty("items").GetArrayLength());

        // A new version: swapped in.
        _folder.Write("2026-11-21", Features, null, Ranker(3), Weights);
        using (var reload = await client.PostAsync(new Uri("/admin/models/reload", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.OK, reload.StatusCode);
            Assert.Equal("2026-11-21", (await JsonAsync(reload)).GetProperty("version").GetString());
        }
        recommendation = await JsonAsync(await client.GetAsync(new Uri("/recommendations?userId=u_5&count=10", UriKind.Relative)));
        Assert.Equal("2026-11-21", recommendation.GetProperty("modelVersion").GetString());

        // A version whose model takes the wrong number of features: refused with a problem, the old version serves on.
        _folder.Write("2026-11-22", Features, null, RankerNetwork.Random(Features.Length + 2, 0, [], [("p_click", HeadActivation.Sigmoid), ("dwell", HeadActivation.Identity)], 4), Weights);
        using (var refused = await client.PostAsync(new Uri("/admin/models/reload", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            var problem = await JsonAsync(refused);
            Assert.Contains("takes 9 features per row but the manifest's schema lists 7", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Equal("2026-11-21", problem.GetProperty("servingVersion").GetString());
        }
        models = await JsonAsync(await client.GetAsync(new Uri("/admin/models", UriKind.Relative)));
        Assert.Equal("2026-11-21", models.GetProperty("version").GetString());
        Assert.Contains("takes 9 features", models.GetProperty("lastReload").GetProperty("error").GetString(), StringComparison.Ordinal);
        recommendation = await JsonAsync(await client.GetAsync(new Uri("/recommendations?userId=u_6&count=10", UriKind.Relative)));
        Assert.Equal(0, recommendation.GetProperty("degraded").GetArrayLength());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong")]
    public async Task Admin_endpoints_refuse_callers_without_the_key_and_do_nothing(string? key)
    {
        _folder.Write("2026-11-20", Features, RankerNetwork.Random(Features.Length, 0, [], [("score", HeadActivation.Sigmoid)], 1), Ranker(2), Weights);
        await using var factory = Service();
        var client = await factory.ReadyClientAsync();
        if (key is not null) client.DefaultRequestHeaders.Add("X-Admin-Key", key);
        _folder.Write("2026-11-21", Features, RankerNetwork.Random(Features.Length, 0, [], [("score", HeadActivation.Sigmoid)], 3), Ranker(4), Weights);

        using var reload = await client.PostAsync(new Uri("/admin/models/reload", UriKind.Relative), null);
        using var status = await client.GetAsync(new Uri("/admin/models", UriKind.Relative));

        Assert.Equal(System.Net.HttpStatusCode.Forbidden, reload.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, status.StatusCode);
        Assert.Equal("application/problem+json", reload.Content.Headers.ContentType?.MediaType);
        var served = await JsonAsync(await client.GetAsync(new Uri("/recommendations?userId=u_5&count=3", UriKind.Relative)));
        Assert.Equal("2026-11-20", served.GetProperty("modelVersion").GetString()); // the new version was not loaded
    }
}
