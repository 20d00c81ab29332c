using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using RecSys.Ranking;
using RecSys.Retrieval;
using RecSys.Retrieval.Hnsw;
using RecSys.Tests.Training;
using RecSys.Training;

namespace RecSys.Tests.Integration;

/// <summary>A replica loading a trained version uses the version's saved HNSW index instead of building one.</summary>
public sealed class VersionIndexServingTests
{
    [Fact]
    public async Task The_service_loads_the_versions_index_file_and_builds_when_that_file_is_corrupt()
    {
        using var dir = new TempDirectory();
        var options = new TrainingOptions { Als = new AlsOptions { Factors = 8, Iterations = 3 }, Evaluate = false, Version = "v1", ModelsDirectory = dir.Path };
        await Trainer.RunAsync(DatasetReaders.FromDemoWorld(TestWorld.Small), options, null, CancellationToken.None);
        var manifest = await File.ReadAllTextAsync(Path.Combine(dir.Path, "v1", Trainer.ManifestFile));
        Assert.Contains($"\"index\": \"{Trainer.HnswIndexFile}\"", manifest, StringComparison.Ordinal);
        Assert.Contains(Trainer.HnswIndexFile, await File.ReadAllTextAsync(Path.Combine(dir.Path, "v1", Trainer.ReportJsonFile)), StringComparison.Ordinal);

        await using var factory = new ServiceFactory(b => b.UseModels(dir.Path)
            .UseSetting("Retrieval:Index", "hnsw")
            .UseSetting("Retrieval:IndexCacheDirectory", "")); // a fresh replica: no cache to fall back on
        var client = await factory.ReadyClientAsync();
        var store = factory.Services.GetRequiredService<ItemEmbeddingStore>();
        var holder = factory.Services.GetRequiredService<AnnIndexHolder>();
        await holder.Building;
        Assert.Equal("trained-v1", store.Current!.Version);
        Assert.True(holder.LoadedFromFile(store.Current), holder.Describe(store.Current));

        // v2: the same vectors with a damaged index file. The version is accepted (the index is derived data), and the
        // service builds the index instead of using the file.
        var v2 = Path.Combine(dir.Path, "v2");
        Directory.CreateDirectory(v2);
        foreach (var file in Directory.GetFiles(Path.Combine(dir.Path, "v1"))) File.Copy(file, Path.Combine(v2, Path.GetFileName(file)));
        File.WriteAllText(Path.Combine(v2, Trainer.ManifestFile), manifest.Replace("\"v1\"", "\"v2\"", StringComparison.Ordinal));
        var index = Path.Combine(v2, Trainer.HnswIndexFile);
        File.WriteAllBytes(index, File.ReadAllBytes(index)[..^9]);
        File.WriteAllText(Path.Combine(dir.Path, Trainer.CurrentFile), "v2\n");
        client.DefaultRequestHeaders.Add("X-Admin-Key", "ops");
        (await client.PostAsync(new Uri("/admin/models/reload", UriKind.Relative), null)).EnsureSuccessStatusCode();
        await holder.Building;
        Assert.Equal("trained-v2", store.Current!.Version);
        Assert.NotNull(holder.For(store.Current));
        Assert.False(holder.LoadedFromFile(store.Current));
    }
}
