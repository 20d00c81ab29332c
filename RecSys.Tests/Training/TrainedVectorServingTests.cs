using RecSys.Catalog;
using RecSys.Catalog.Memory;
using RecSys.Features;
using RecSys.Ranking;
using RecSys.Training;
using RecSys.Training.Serving;

namespace RecSys.Tests.Training;

/// <summary>A model version's item vectors as serving loads them: mapped onto the catalog, folded in exactly as training does, refused when corrupt.</summary>
public class TrainedVectorServingTests
{
    private const int Users = 60;
    private const int Items = 40;
    private const int Factors = 8;

    private static readonly AlsOptions Als = new() { Factors = Factors, Iterations = 4, Regularization = 0.5, Alpha = 2, Seed = 5 };

    /// <summary>Each user clicked 2 to 10 distinct items once (strength 1): what serving sees of them is all training saw.</summary>
    private static InteractionMatrix ClickMatrix()
    {
        var rng = new Random(11);
        var entries = new List<(int, int, float)>();
        for (var u = 0; u < Users; u++)
        {
            foreach (var i in Enumerable.Range(0, Items).OrderBy(_ => rng.Next()).Take(2 + (u % 9))) entries.Add((u, i, 1f));
        }
        return InteractionMatrix.FromEntries(Users, Items, entries);
    }

    private static string TrainedId(int i) => $"t{i}";

    /// <summary>A catalog holding the trained items in reverse order, after 5 items the model does not know.</summary>
    private static InMemoryCatalog Catalog()
    {
        var ids = Enumerable.Range(0, 5).Select(i => $"new{i}").Concat(Enumerable.Range(0, Items).Reverse().Select(TrainedId)).ToArray();
        var items = ids.Select((id, index) => new Item(index, id, id, 0, "c", 0, DateTimeOffset.UnixEpoch, 0f, false, "us", "en", "https://x/" + id)).ToList();
        var catalog = new InMemoryCatalog();
        catalog.Load(new CatalogSnapshot("test", items, [], ["c"]));
        return catalog;
    }

    private static int CatalogIndex(int trained) => 5 + (Items - 1 - trained);

    private static RetrievalManifest Manifest(int dimensions = Factors) =>
        new(Trainer.ItemVectorsFile, Trainer.ItemIdsFile, dimensions, "als", Als.Alpha, Als.Regularization, 1f, 50);

    private static async Task<AlsModel> WriteVersionAsync(string dir)
    {
        var model = ImplicitAls.Train(ClickMatrix(), Als);
        await VectorFile.WriteAsync(Path.Combine(dir, Trainer.ItemVectorsFile), model.ItemFactors, Items, Factors, CancellationToken.None);
        await File.WriteAllLinesAsync(Path.Combine(dir, Trainer.ItemIdsFile), Enumerable.Range(0, Items).Select(TrainedId));
        return model;
    }

    [Fact]
    public async Task The_serving_query_vector_of_a_training_user_equals_the_trainers_user_vector()
    {
        using var dir = new TempDirectory();
        var model = await WriteVersionAsync(dir.Path);
        var matrix = ClickMatrix();
        var embeddings = TrainedItemVectors.Map(TrainedItemVectors.Load(dir.Path, "v1", Manifest()), Catalog(), out var mapped);

        Assert.Equal(Items, mapped);
        Assert.Equal(Items + 5, embeddings.Count);
        Assert.NotNull(embeddings.FoldIn);
        for (var i = 0; i < 5; i++) Assert.All(embeddings.Vector(i).ToArray(), v => Assert.Equal(0f, v)); // unknown to the model: never found by ANN
        Assert.Equal(model.ItemVector(7).ToArray(), embeddings.Vector(CatalogIndex(7)).ToArray());

        var query = new float[Factors];
        for (var u = 0; u < Users; u++)
        {
            // Catalog indices, with an item the model does not know in front: it is skipped, as training skips nothing.
            var recent = matrix.RowIndices(u).ToArray().Select(CatalogIndex).Prepend(2).ToArray();
            // The pipeline's call (its history limit is for the mean fold-in; the trained one uses the manifest's).
            Assert.True(UserEmbedding.FoldIn(embeddings, recent, 3, query));
            var trained = model.UserVector(u);
            for (var d = 0; d < Factors; d++) Assert.Equal(trained[d], query[d], 1e-4f);
        }
        Assert.False(UserEmbedding.FoldIn(embeddings, [0, 1], 3, query)); // only unknown items: no personal query
    }

    [Fact]
    public async Task Written_user_vectors_are_the_fold_in_against_the_written_item_vectors_cold_items_filled()
    {
        using var dir = new TempDirectory();
        var dataset = DatasetReaders.FromDemoWorld(TestWorld.Small);
        var options = new TrainingOptions { Als = Als, Evaluate = false, Rankers = false, ColdStartMinInteractions = 5, Version = "v", ModelsDirectory = dir.Path };
        var run = await Trainer.RunAsync(dataset, options, null, CancellationToken.None);
        Assert.True(run.ColdItemsFilled > 0); // the case where the item side changed after the users were solved
        var written = TrainedModel.Load(dir.Path);
        var foldIn = new AlsModel(Als, 0, written.ItemIds.Count, [], written.ItemVectors);
        var matrix = Splits.Full(dataset);
        var query = new float[Factors];
        for (var u = 0; u < matrix.Rows; u += 13)
        {
            foldIn.FoldIn(matrix.RowIndices(u), matrix.RowValues(u), query);
            var expected = written.UserVectors.AsSpan(u * Factors, Factors);
            for (var d = 0; d < Factors; d++) Assert.Equal(expected[d], query[d], 1e-4f);
        }
    }

    [Fact]
    public async Task A_corrupt_or_mismatched_vector_file_refuses_the_version_naming_the_file()
    {
        using var dir = new TempDirectory();
        await WriteVersionAsync(dir.Path);

        var wrongDimension = Assert.Throws<ModelRejectedException>(() => TrainedItemVectors.Load(dir.Path, "v1", Manifest(dimensions: 16)));
        Assert.Contains(Trainer.ItemVectorsFile, wrongDimension.Message, StringComparison.Ordinal);
        Assert.Contains("8 dimensions, the manifest says 16", wrongDimension.Message, StringComparison.Ordinal);

        var path = Path.Combine(dir.Path, Trainer.ItemVectorsFile);
        var bytes = await File.ReadAllBytesAsync(path);
        await File.WriteAllBytesAsync(path, bytes.AsSpan(0, bytes.Length - 3).ToArray());
        var truncated = Assert.Throws<ModelRejectedException>(() => TrainedItemVectors.Load(dir.Path, "v1", Manifest()));
        Assert.Contains(path, truncated.Message, StringComparison.Ordinal);

        await File.WriteAllBytesAsync(path, bytes);
        await File.WriteAllLinesAsync(Path.Combine(dir.Path, Trainer.ItemIdsFile), ["t0", "t1"]);
        var ids = Assert.Throws<ModelRejectedException>(() => TrainedItemVectors.Load(dir.Path, "v1", Manifest()));
        Assert.Contains("40 vectors", ids.Message, StringComparison.Ordinal);
    }
}

/// <summary>The store's precedence: the demo world's vectors are a fallback that never replaces trained ones.</summary>
public class ItemEmbeddingStorePrecedenceTests
{
    [Fact]
    public void A_fallback_does_not_replace_published_vectors_and_yields_to_a_preferred_source()
    {
        var trained = new RecSys.Retrieval.ItemEmbeddings("trained", 2, [1, 0, 0, 1]);
        var demo = new RecSys.Retrieval.ItemEmbeddings("demo", 2, [0, 1, 1, 0]);

        var first = new RecSys.Retrieval.ItemEmbeddingStore();
        first.Publish(trained);
        Assert.Null(first.PublishFallback(demo));
        Assert.Same(trained, first.Current);

        var waiting = new RecSys.Retrieval.ItemEmbeddingStore();
        var published = new List<string>();
        waiting.Published += e => published.Add(e.Version);
        waiting.PreferOverFallback(() => trained);
        Assert.Same(trained, waiting.PublishFallback(demo));
        Assert.Same(trained, waiting.Current);
        Assert.Equal(["trained"], published); // one publication: the index is built once, for the right vectors

        var empty = new RecSys.Retrieval.ItemEmbeddingStore();
        empty.PreferOverFallback(() => null);
        Assert.Same(demo, empty.PublishFallback(demo));
    }
}
