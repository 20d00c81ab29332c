using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using RecSys.Experiments;
using RecSys.Pipeline;
using RecSys.Ranking;
using RecSys.Tests.Ranking;

namespace RecSys.Tests.Integration;

/// <summary>
/// An experiment variant scored by its own model version, and pre-ranker scores in explanations, through the real HTTP
/// pipeline with two real ONNX model versions written by the trainer's ONNX door (<see cref="OnnxModelExport"/>).
/// </summary>
public sealed class ModelVersionApiTests : IDisposable
{
    private static readonly string[] Features = ["ann_similarity", "item_ctr", "user_category_affinity", "language_match", "item_popularity", "friend_post", "item_freshness_hours"];
    private static readonly string[] OtherFeatures = ["item_ctr", "ann_similarity", "language_match"];
    private const float PreWeight = 3f, PreBias = -1f, ConstantBias = 1.5f;

    private readonly ModelFolder _folder = new();

    public ModelVersionApiTests()
    {
        // v1 (served): a pre-ranker that reads only ann_similarity (the retrieval score), and a ranker over all features.
        var preWeights = new float[Features.Length];
        preWeights[0] = PreWeight;
        var rankerWeights = Enumerable.Range(0, Features.Length).Select(i => (i % 3) - 0.7f).ToArray();
        _folder.WriteOnnx("v1", Features,
            OnnxModelExport.WriteSigmoidNetwork(Features.Length, [(preWeights, [PreBias])], "score"),
            OnnxModelExport.WriteSigmoidNetwork(Features.Length, [(rankerWeights, [0.2f])], "p_click"),
            new Dictionary<string, double> { ["p_click"] = 1 });
        // v2 (the variant's): another schema, no pre-ranker, and a ranker that gives every row sigmoid(1.5).
        _folder.WriteOnnx("v2", OtherFeatures, null,
            OnnxModelExport.WriteSigmoidNetwork(OtherFeatures.Length, [(new float[OtherFeatures.Length], [ConstantBias])], "p_click"),
            new Dictionary<string, double> { ["p_click"] = 1 }, makeCurrent: false);
    }

    public void Dispose() => _folder.Dispose();

    private WebApplicationFactory<Program> Factory(string variantVersion, int preRankKeep = 50) => new ServiceFactory(b =>
    {
        b.UseModels(_folder.Root);
        b.UseSetting("Ranking:PreRankKeep", preRankKeep.ToString(System.Globalization.CultureInfo.InvariantCulture));
        b.UseSetting("Experiments:Running:0:Name", "models");
        b.UseSetting("Experiments:Running:0:Salt", "m-1");
        b.UseSetting("Experiments:Running:0:TrafficShare", "1");
        b.UseSetting("Experiments:Running:0:Variants:0:Name", "a");
        b.UseSetting("Experiments:Running:0:Variants:1:Name", "b");
        b.UseSetting("Experiments:Running:0:Variants:1:ModelVersion", variantVersion);
    });

    private static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    [Fact]
    public async Task A_variants_users_are_scored_by_its_version_and_others_by_the_served_one()
    {
        await using var factory = Factory("v2");
        var client = await factory.ReadyClientAsync();
        var experiments = factory.Services.GetRequiredService<IExperiments>();
        var seen = new HashSet<string>();
        for (var u = 0; u < 24; u++)
        {
            var userId = $"u_{u}";
            var variant = experiments.Assign(userId)!.Variant;
            seen.Add(variant);
            var body = JsonDocument.Parse(await client.GetStringAsync(new Uri($"/recommendations?userId={userId}&count=8&explain=true", UriKind.Relative))).RootElement;
            Assert.Equal($"models/{variant}", body.GetProperty("experimentVariant").GetString());
            Assert.Equal(0, body.GetProperty("degraded").GetArrayLength());
            var items = body.GetProperty("items").EnumerateArray().ToArray();
            Assert.Equal(8, items.Length);
            if (variant == "b")
            {
                Assert.Equal("v2", body.GetProperty("modelVersion").GetString());
                Assert.All(items, i => Assert.Equal(Sigmoid(ConstantBias), i.GetProperty("score").GetSingle(), 1e-5));
                Assert.All(items, i => Assert.Equal(JsonValueKind.Null, i.GetProperty("explanation").GetProperty("scores").GetProperty("preRanker").ValueKind));
            }
            else
            {
                Assert.Equal("v1", body.GetProperty("modelVersion").GetString());
                Assert.Contains(items, i => Math.Abs(i.GetProperty("score").GetSingle() - Sigmoid(ConstantBias)) > 1e-3);
                foreach (var item in items)
                {
                    // The pre-ranker reads only ann_similarity, which is the retrieval score the explanation reports.
                    var scores = item.GetProperty("explanation").GetProperty("scores");
                    Assert.Equal(Sigmoid((PreWeight * scores.GetProperty("retrieval").GetSingle()) + PreBias), scores.GetProperty("preRanker").GetSingle(), 1e-5);
                }
            }
        }
        Assert.Equal(["a", "b"], seen.Order());

        // The impression of a variant-b answer carries the version that scored it.
        var bUser = Enumerable.Range(0, 100).Select(u => $"u_{u}").First(u => experiments.Assign(u)!.Variant == "b");
        var request = new RecommendationRequest("r-imp", bUser, 5);
        var result = await factory.Services.GetRequiredService<RecommendationPipeline>().RecommendAsync(request, default);
        Assert.Equal("v2", RecSys.Api.Endpoints.EventsApi.ToImpression(result, request, DateTimeOffset.UnixEpoch).ModelVersion);

        // GET /experiments shows the override.
        var listed = JsonDocument.Parse(await client.GetStringAsync(new Uri("/experiments", UriKind.Relative))).RootElement;
        var variants = listed.EnumerateArray().Single(e => e.GetProperty("name").GetString() == "models").GetProperty("variants").EnumerateArray().ToArray();
        Assert.True(!variants[0].TryGetProperty("modelVersion", out var none) || none.ValueKind == JsonValueKind.Null); // nulls may be left out
        Assert.Equal("v2", variants[1].GetProperty("modelVersion").GetString());

        // The admin view lists the extra version and who needs it.
        var models = factory.Services.GetRequiredService<IRankingModels>().Status;
        Assert.Equal("v1", models.Version);
        Assert.Equal(["experiment 'models' variant 'b'"], Assert.Single(models.ExtraVersions).RequiredBy);
    }

    [Fact]
    public async Task Every_row_kept_the_explanation_still_reports_the_pre_rankers_score()
    {
        await using var factory = Factory("v2", preRankKeep: 5000);
        var client = await factory.ReadyClientAsync();
        var experiments = factory.Services.GetRequiredService<IExperiments>();
        var aUser = Enumerable.Range(0, 100).Select(u => $"u_{u}").First(u => experiments.Assign(u)!.Variant == "a");
        var body = JsonDocument.Parse(await client.GetStringAsync(new Uri($"/recommendations?userId={aUser}&count=6&explain=true", UriKind.Relative))).RootElement;
        foreach (var item in body.GetProperty("items").EnumerateArray())
        {
            var scores = item.GetProperty("explanation").GetProperty("scores");
            Assert.Equal(Sigmoid((PreWeight * scores.GetProperty("retrieval").GetSingle()) + PreBias), scores.GetProperty("preRanker").GetSingle(), 1e-5);
        }
    }

    [Fact]
    public void A_variant_naming_a_missing_version_stops_the_start_naming_the_experiment_variant_and_path()
    {
        using var factory = Factory("v7");
        var ex = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        var message = ex.ToString();
        Assert.Contains("experiment 'models' variant 'b'", message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(_folder.Root, "v7", "manifest.json"), message, StringComparison.Ordinal);
    }
}
