using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using RecSys.Ranking.Onnx;
using RecSys.Retrieval;
using RecSys.Tests.Ranking;
using RecSys.Training;

namespace RecSys.Tests.Integration;

/// <summary>
/// A model version without item vectors does not inherit the previous version's trained vectors: after the reload the
/// service serves the fallback (demo) vectors, as a start with that version would.
/// </summary>
public sealed class VectorlessVersionTests : IDisposable
{
    private static readonly string[] Features = ["ann_similarity", "item_ctr", "user_category_affinity", "language_match", "item_popularity"];
    private readonly ModelFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Reloading_a_version_without_vectors_withdraws_the_trained_vectors_and_reloading_a_trained_one_brings_them_back()
    {
        var options = new TrainingOptions { Als = new AlsOptions { Factors = 8, Iterations = 2 }, Evaluate = false, Version = "v1", ModelsDirectory = _folder.Root, HnswIndex = null };
        await Trainer.RunAsync(DatasetReaders.FromDemoWorld(TestWorld.Small), options, null, CancellationToken.None);
        await using var factory = new ServiceFactory(b => b.UseModels(_folder.Root).UseSetting("Retrieval:Index", "exact"));
        var client = await factory.ReadyClientAsync();
        client.DefaultRequestHeaders.Add("X-Admin-Key", "ops");
        var store = factory.Services.GetRequiredService<ItemEmbeddingStore>();
        Assert.Equal("trained-v1", store.Current!.Version);

        _folder.Write("v2-rankers-only", Features, RankerNetwork.Random(Features.Length, 0, [], [("score", HeadActivation.Sigmoid)], 1),
            RankerNetwork.Random(Features.Length, 1, [8], [("p_click", HeadActivation.Sigmoid)], 2), new Dictionary<string, double> { ["p_click"] = 1.0 });
        (await client.PostAsync(new Uri("/admin/models/reload", UriKind.Relative), null)).EnsureSuccessStatusCode();
        Assert.StartsWith("demo-", store.Current!.Version, StringComparison.Ordinal);
        Assert.Null(store.Current.FoldIn);
        (await client.GetAsync(new Uri("/recommendations?userId=u_3&count=5", UriKind.Relative))).EnsureSuccessStatusCode();

        _folder.MakeCurrent("v1");
        (await client.PostAsync(new Uri("/admin/models/reload", UriKind.Relative), null)).EnsureSuccessStatusCode();
        Assert.Equal("trained-v1", store.Current!.Version);
    }
}
