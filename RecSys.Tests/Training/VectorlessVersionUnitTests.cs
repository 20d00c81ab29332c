using Microsoft.Extensions.Logging.Abstractions;
using RecSys.Catalog;
using RecSys.Catalog.Memory;
using RecSys.Ranking;
using RecSys.Retrieval;
using RecSys.Training;
using RecSys.Training.Serving;

namespace RecSys.Tests.Training;

/// <summary>Without fallback vectors (no demo world), a version without vectors is refused while trained vectors serve.</summary>
public sealed class VectorlessVersionUnitTests
{
    [Fact]
    public async Task A_version_without_vectors_is_refused_when_no_fallback_exists_and_trained_vectors_serve()
    {
        using var dir = new TempDirectory();
        var ids = Enumerable.Range(0, 4).Select(i => $"i{i}").ToArray();
        await VectorFile.WriteAsync(Path.Combine(dir.Path, Trainer.ItemVectorsFile), [1, 0, 0, 1, 1, 1, 0, 2], 4, 2, CancellationToken.None);
        await File.WriteAllLinesAsync(Path.Combine(dir.Path, Trainer.ItemIdsFile), ids);
        var catalog = new InMemoryCatalog();
        catalog.Load(new CatalogSnapshot("test", ids.Select((id, n) => new Item(n, id, id, 0, "c", 0, DateTimeOffset.UnixEpoch, 0f, false, "us", "en", "")).ToList(), [], ["c"]));
        var store = new ItemEmbeddingStore();
        using var vectors = new TrainedItemVectors(catalog, store, NullLogger<TrainedItemVectors>.Instance);
        var retrieval = new RetrievalManifest(Trainer.ItemVectorsFile, Trainer.ItemIdsFile, 2, "als", 1, 0.1, 1f, 10);
        ModelManifest Manifest(string version, RetrievalManifest? r) =>
            new(version, ["ann_similarity"], null, new RankerManifest("ranker.onnx", new Dictionary<string, double> { ["p_click"] = 1 })) { Retrieval = r };

        vectors.Prepare(dir.Path, Manifest("v1", retrieval))!();
        Assert.Equal("trained-v1", store.Current!.Version);

        var refused = Assert.Throws<ModelRejectedException>(() => vectors.Prepare(dir.Path, Manifest("v2", null)));
        Assert.Contains("v1", refused.Message, StringComparison.Ordinal);
        Assert.Equal("trained-v1", store.Current!.Version);

        // With a fallback known, the same version is accepted and the fallback serves with it.
        var demo = new ItemEmbeddings("demo", 2, new float[8]);
        Assert.Null(store.PublishFallback(demo));
        vectors.Prepare(dir.Path, Manifest("v2", null))!();
        Assert.Same(demo, store.Current);
    }

    [Fact]
    public void A_late_preferred_set_is_published_once_and_a_later_fallback_does_not_replace_it()
    {
        var store = new ItemEmbeddingStore();
        var trained = new ItemEmbeddings("trained", 2, [1, 0, 0, 1]);
        ItemEmbeddings? waiting = trained;
        store.PreferOverFallback(() => Interlocked.Exchange(ref waiting, null));
        var published = new List<string>();
        store.Published += e => published.Add(e.Version);

        Assert.Same(trained, store.PublishPreferred());
        Assert.Null(store.PublishPreferred()); // handed over once
        Assert.Null(store.PublishFallback(new ItemEmbeddings("demo", 2, [0, 1, 1, 0])));
        Assert.Same(trained, store.Current);
        Assert.Equal(["trained"], published);
        Assert.True(store.HasFallback);
    }
}
