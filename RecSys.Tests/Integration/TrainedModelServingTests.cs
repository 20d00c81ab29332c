using System.Numerics.Tensors;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using RecSys.Catalog;
using RecSys.Features;
using RecSys.Retrieval;
using RecSys.Tests.Training;
using RecSys.Training;

namespace RecSys.Tests.Integration;

/// <summary>`train` output served end to end: the trained ranker's version and the trained vectors' neighbours through the HTTP pipeline.</summary>
public sealed class TrainedModelServingTests
{
    private const string AdminKey = "ops";

    private sealed class Factory(string models, bool trainOnFirstRun = false) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSmallDemoWorld();
            builder.UseSetting("Training:TrainOnFirstRun", trainOnFirstRun ? "true" : "false");
            builder.UseSetting("Ranking:ModelsDirectory", models);
            builder.UseSetting("Ranking:ExecutionProvider", "cpu");
            builder.UseSetting("Admin:Key", AdminKey);
            // The exact scan, so that "the ANN source returned the trained vectors' best" is exact (HNSW is tested on its own).
            builder.UseSetting("Retrieval:Index", "exact");
        }
    }

    [Fact]
    public async Task After_train_the_service_serves_the_trained_version_and_retrieves_the_trained_vectors_neighbours()
    {
        using var dir = new TempDirectory();
        var options = new TrainingOptions { Als = new AlsOptions { Factors = 8, Iterations = 3 }, Evaluate = false, Version = "v-served", ModelsDirectory = dir.Path };
        await Trainer.RunAsync(DatasetReaders.FromDemoWorld(TestWorld.Small), options, null, CancellationToken.None);
        var trained = TrainedModel.Load(dir.Path);

        await using var factory = new Factory(dir.Path);
        var client = await factory.ReadyClientAsync();
        client.DefaultRequestHeaders.Add("X-Admin-Key", AdminKey);

        // The store serves the trained vectors (the demo seeder's are only a fallback), mapped by item id.
        var store = factory.Services.GetRequiredService<ItemEmbeddingStore>();
        var catalog = factory.Services.GetRequiredService<ICatalog>();
        var served = store.Current!;
        Assert.Equal("trained-v-served", served.Version);
        Assert.Equal(8, served.Dimensions);
        Assert.NotNull(served.FoldIn);
        var trainedIndex = trained.ItemIds.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i);
        foreach (var id in new[] { trained.ItemIds[0], trained.ItemIds[^1] })
        {
            Assert.True(catalog.TryGetItem(id, out var item));
            Assert.Equal(trained.ItemVectors.AsSpan(trainedIndex[id] * 8, 8).ToArray(), served.Vector(item.Index).ToArray());
        }

        var features = factory.Services.GetRequiredService<IFeatureStore>();
        var annItems = 0;
        var annInExact = 0;
        foreach (var userId in new[] { "u_3", "u_17", "u_101" })
        {
            using var response = await client.GetAsync(new Uri($"/recommendations?userId={userId}&count=20&explain=true", UriKind.Relative));
            response.EnsureSuccessStatusCode();
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("v-served", body.GetProperty("modelVersion").GetString());

            // The query vector serving folds in, and the exact top 500 of the trained vectors for it.
            Assert.True(catalog.TryGetUser(userId, out var user));
            var state = await features.GetUserStateAsync(user.Index, CancellationToken.None);
            var query = new float[8];
            Assert.True(UserEmbedding.FoldIn(served, state.RecentItems, 50, query));
            // Among the items this user may get (no NSFW unless allowed, nothing already interacted with), with a
            // margin over the ANN's 500.
            var exact = trained.ItemIds.Select((id, i) => (id, score: TensorPrimitives.Dot(query, trained.ItemVectors.AsSpan(i * 8, 8))))
                .Where(p => catalog.TryGetItem(p.id, out var it) && (user.AllowNsfw || !it.IsNsfw) && !state.InteractedItems.Contains(it.Index))
                .OrderByDescending(p => p.score).Take(600).Select(p => p.id).ToHashSet();
            foreach (var item in body.GetProperty("items").EnumerateArray())
            {
                var explanation = item.GetProperty("explanation");
                if (explanation.GetProperty("sources").EnumerateArray().Select(s => s.GetString()).SequenceEqual(["ann"]))
                {
                    var id = item.GetProperty("itemId").GetString()!;
                    var expected = TensorPrimitives.Dot(query, trained.ItemVectors.AsSpan(trainedIndex[id] * 8, 8));
                    Assert.Equal(expected, explanation.GetProperty("scores").GetProperty("retrieval").GetSingle(), 1e-3f);
                    if (exact.Contains(id)) annInExact++;
                    annItems++;
                }
            }
        }
        Assert.True(annItems > 0, "no ANN candidate reached the lists");
        Assert.True(annInExact == annItems, $"{annInExact} of {annItems} ANN items are among the 600 best eligible trained vectors");

        // A version whose vector file is corrupt is refused with the file named; the trained vectors keep serving.
        var bad = CopyVersion(dir.Path, "v-served", "v-bad");
        var vectors = Path.Combine(bad, Trainer.ItemVectorsFile);
        File.WriteAllBytes(vectors, File.ReadAllBytes(vectors)[..^5]);
        File.WriteAllText(Path.Combine(dir.Path, Trainer.CurrentFile), "v-bad\n");
        using (var refused = await client.PostAsync(new Uri("/admin/models/reload", UriKind.Relative), null))
        {
            Assert.Equal(System.Net.HttpStatusCode.UnprocessableEntity, refused.StatusCode);
            var detail = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString();
            Assert.Contains(vectors, detail, StringComparison.Ordinal);
        }
        Assert.Same(served, store.Current);

        // A good new version swaps the ranker and the vectors together.
        CopyVersion(dir.Path, "v-served", "v-two");
        File.WriteAllText(Path.Combine(dir.Path, Trainer.CurrentFile), "v-two\n");
        using (var reloaded = await client.PostAsync(new Uri("/admin/models/reload", UriKind.Relative), null))
        {
            reloaded.EnsureSuccessStatusCode();
        }
        Assert.Equal("trained-v-two", store.Current!.Version);
        var after = JsonDocument.Parse(await client.GetStringAsync(new Uri("/recommendations?userId=u_3&count=5", UriKind.Relative))).RootElement;
        Assert.Equal("v-two", after.GetProperty("modelVersion").GetString());
    }

    [Fact]
    public async Task A_first_run_without_models_trains_the_demo_models_before_it_is_ready()
    {
        using var dir = new TempDirectory();
        await using var factory = new Factory(dir.Path, trainOnFirstRun: true);
        var client = await factory.ReadyClientAsync(TimeSpan.FromMinutes(2));

        // Ready means trained and loaded: the version written, the ranker and the vectors serving it.
        var version = File.ReadAllText(Path.Combine(dir.Path, Trainer.CurrentFile)).Trim();
        Assert.True(File.Exists(Path.Combine(dir.Path, version, Trainer.ManifestFile)));
        var body = JsonDocument.Parse(await client.GetStringAsync(new Uri("/recommendations?userId=u_3&count=5", UriKind.Relative))).RootElement;
        Assert.Equal(version, body.GetProperty("modelVersion").GetString());
        Assert.Equal($"trained-{version}", factory.Services.GetRequiredService<ItemEmbeddingStore>().Current!.Version);
        // The seeder and the first-run trainer shared one generated world.
        Assert.Equal(1, factory.Services.GetRequiredService<RecSys.Demo.DemoWorldSource>().Generated);
    }

    /// <summary>A copy of a version folder under another version name (the manifest renamed too).</summary>
    private static string CopyVersion(string root, string from, string to)
    {
        var target = Path.Combine(root, to);
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(Path.Combine(root, from))) File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        var manifest = Path.Combine(target, Trainer.ManifestFile);
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace($"\"{from}\"", $"\"{to}\"", StringComparison.Ordinal));
        return target;
    }
}
