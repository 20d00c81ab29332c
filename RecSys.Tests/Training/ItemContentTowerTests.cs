using System.Numerics.Tensors;
using RecSys.Events;
using RecSys.Training;

namespace RecSys.Tests.Training;

public class ItemContentTowerTests
{
    private const int Dims = 8;

    /// <summary>200 items in 4 categories; an item's vector is its category's centroid plus a little noise.</summary>
    private static (ItemMetadata[] Items, float[] Vectors, float[] Centroids) World()
    {
        var rng = new Random(11);
        var centroids = new float[4 * Dims];
        for (var i = 0; i < centroids.Length; i++) centroids[i] = (float)(rng.NextDouble() - 0.5);
        var items = new ItemMetadata[200];
        var vectors = new float[200 * Dims];
        for (var i = 0; i < 200; i++)
        {
            var c = i % 4;
            items[i] = new ItemMetadata($"t{i}", $"cat{c}", $"a{i % 7}", "en", "us", null, [$"w{i % 3}"]);
            for (var d = 0; d < Dims; d++) vectors[(i * Dims) + d] = centroids[(c * Dims) + d] + (float)(0.05 * (rng.NextDouble() - 0.5));
        }
        return (items, vectors, centroids);
    }

    [Fact]
    public void Unseen_items_get_vectors_close_to_their_categorys()
    {
        var (items, vectors, centroids) = World();
        var tower = ItemContentTower.Fit(items, vectors, Dims, Enumerable.Range(0, 150).ToArray(), lambda: 0.1);
        var predicted = new float[Dims];
        for (var i = 150; i < 200; i++)
        {
            Assert.True(tower.Predict(items[i], predicted));
            var own = centroids.AsSpan((i % 4) * Dims, Dims);
            var similarity = TensorPrimitives.CosineSimilarity(predicted, own);
            Assert.True(similarity > 0.95, $"item {i}: cosine {similarity} to its category centroid");
            for (var other = 0; other < 4; other++)
            {
                if (other != i % 4) Assert.True(TensorPrimitives.CosineSimilarity(predicted, centroids.AsSpan(other * Dims, Dims)) < similarity);
            }
        }
        Assert.False(tower.Predict(ItemMetadata.Unknown, predicted)); // nothing known: only the bias
    }

    [Fact]
    public void Cold_items_of_a_dataset_are_filled_and_warm_ones_kept()
    {
        var (items, vectors, _) = World();
        // Items 0..149 have 5 interactions each (users 0..4); 150..199 have none.
        var events = Enumerable.Range(0, 150).SelectMany(i => Enumerable.Range(0, 5).Select(u => new Interaction(u, i, EventType.Click, 1, 0))).ToArray();
        var dataset = new InteractionDataset("t", Enumerable.Range(0, 5).Select(u => $"u{u}").ToArray(), Enumerable.Range(0, 200).Select(i => $"i{i}").ToArray(), events, items);
        var train = Splits.Full(dataset);
        var model = (float[])vectors.Clone();
        Array.Clear(model, 150 * Dims, 50 * Dims); // what ALS gives items nobody touched
        var replaced = ItemContentTower.FillColdItems(dataset, train, model, Dims, minInteractions: 3, lambda: 0.1, out var tower);
        Assert.NotNull(tower);
        Assert.Equal(50, replaced);
        Assert.Equal(vectors.AsSpan(0, 150 * Dims).ToArray(), model.AsSpan(0, 150 * Dims).ToArray());
        Assert.True(TensorPrimitives.CosineSimilarity(model.AsSpan(151 * Dims, Dims), vectors.AsSpan(151 * Dims, Dims)) > 0.9);
    }
}
