using RecSys.Retrieval;
using RecSys.Retrieval.Exact;
using RecSys.Retrieval.Hnsw;

namespace RecSys.Tests.Retrieval;

public class HnswIndexTests
{
    /// <summary>
    /// Normalised vectors around random cluster centres: the shape of learned item embeddings. The centres depend only
    /// on <paramref name="clusters"/> and <paramref name="dims"/>, so queries drawn with another seed come from the
    /// same distribution as the items.
    /// </summary>
    internal static float[] Clustered(int count, int dims, int clusters, int seed)
    {
        var centreRng = new Random((clusters * 7919) + dims);
        var rng = new Random(seed);
        var centres = new float[clusters * dims];
        for (var i = 0; i < centres.Length; i++) centres[i] = (float)Gaussian(centreRng);
        var data = new float[count * dims];
        for (var i = 0; i < count; i++)
        {
            var c = rng.Next(clusters);
            var row = data.AsSpan(i * dims, dims);
            for (var d = 0; d < dims; d++) row[d] = centres[(c * dims) + d] + (0.6f * (float)Gaussian(rng));
            Distances.Normalize(row);
        }
        return data;
    }

    private static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private static readonly Lazy<(float[] Data, HnswIndex Index)> Shared20k = new(() =>
    {
        var data = Clustered(20_000, 32, 64, seed: 7);
        return (data, HnswIndex.Build(data, 32, HnswMetric.InnerProduct, new HnswParameters(M: 16, EfConstruction: 100), threads: Environment.ProcessorCount));
    });

    private static double Recall(HnswIndex index, float[] data, int dims, int queries, int k, int ef, int seed, HnswMetric metric = HnswMetric.InnerProduct)
    {
        var queryData = Clustered(queries, dims, 64, seed);
        var hits = 0;
        var ids = new int[k];
        var scores = new float[k];
        var truth = new int[k];
        for (var q = 0; q < queries; q++)
        {
            var query = queryData.AsSpan(q * dims, dims);
            var found = index.Search(query, k, ef, ids, scores);
            Assert.Equal(k, found);
            index.ExactSearch(query, default(AllowAll), truth, new float[k]);
            hits += ids.Intersect(truth).Count();
        }
        return hits / (double)(queries * k);
    }

    [Fact]
    public void Recall_at_10_is_at_least_095_on_a_seeded_20k_set_against_exact_search()
    {
        var (data, index) = Shared20k.Value;
        var recall = Recall(index, data, 32, 200, 10, 64, seed: 11);
        Assert.True(recall >= 0.95, $"recall@10 {recall}");

        // The index's own exact scan agrees with the module's reference exact search.
        var embeddings = new ItemEmbeddings("t", 32, data);
        var query = Clustered(1, 32, 64, seed: 3);
        var a = new int[10];
        var b = new int[10];
        index.ExactSearch(query, default(AllowAll), a, new float[10]);
        ExactSearch.Search(embeddings, query, null, b, new float[10]);
        Assert.Equal(b, a);
    }

    [Theory]
    [InlineData((int)HnswMetric.L2)]
    [InlineData((int)HnswMetric.Cosine)]
    public void Other_metrics_reach_high_recall(int metricCode)
    {
        var metric = (HnswMetric)metricCode;
        var data = Clustered(4000, 24, 32, seed: 5);
        // Scale rows so cosine and L2 differ from inner product.
        for (var i = 0; i < 4000; i++) for (var d = 0; d < 24; d++) data[(i * 24) + d] *= 1 + (i % 5);
        var index = HnswIndex.Build(data, 24, metric, new HnswParameters(12, 80), threads: 1);
        var recall = Recall(index, data, 24, 100, 10, 96, seed: 9, metric);
        Assert.True(recall >= 0.95, $"recall@10 {recall}");
    }

    [Fact]
    public void Scores_are_inner_products_for_ip_and_negated_squared_distances_for_l2()
    {
        var data = Clustered(500, 8, 4, seed: 1);
        var query = data.AsSpan(17 * 8, 8).ToArray();
        var ids = new int[1];
        var scores = new float[1];
        var ip = HnswIndex.Build(data, 8, HnswMetric.InnerProduct, new HnswParameters(8, 50), 1);
        ip.Search(query, 1, 50, ids, scores);
        Assert.Equal(17, ids[0]);
        Assert.Equal(1f, scores[0], 4);
        var l2 = HnswIndex.Build(data, 8, HnswMetric.L2, new HnswParameters(8, 50), 1);
        l2.Search(query, 1, 50, ids, scores);
        Assert.Equal(17, ids[0]);
        Assert.Equal(0f, scores[0], 4);
    }

    [Theory]
    [InlineData(10)] // 10% eligible: the graph walk
    [InlineData(400)] // 0.25% eligible: the exact scan of eligible items
    public void Filtered_search_returns_k_eligible_items(int oneIn)
    {
        var (data, index) = Shared20k.Value;
        var bits = new ulong[(20_000 + 63) / 64];
        for (var i = 0; i < 20_000; i += oneIn) bits[i >> 6] |= 1UL << i;
        var filter = new BitsetFilter(bits);
        var queries = Clustered(20, 32, 64, seed: 21);
        var k = 30;
        var hits = 0;
        for (var q = 0; q < 20; q++)
        {
            var ids = new int[k];
            var found = index.Search(queries.AsSpan(q * 32, 32), k, 64, filter, ids, new float[k]);
            Assert.Equal(k, found);
            Assert.All(ids, id => Assert.Equal(0, id % oneIn));
            Assert.Equal(k, ids.Distinct().Count());
            var truth = new int[k];
            index.ExactSearch(queries.AsSpan(q * 32, 32), filter, truth, new float[k]);
            hits += ids.Intersect(truth).Count();
        }
        Assert.True(hits / (20.0 * k) >= 0.9, $"filtered recall {hits / (20.0 * k)}");
    }

    [Fact]
    public void K_of_1000_returns_1000_distinct_items_best_first()
    {
        var (_, index) = Shared20k.Value;
        var ids = new int[1000];
        var scores = new float[1000];
        var found = index.Search(Clustered(1, 32, 64, seed: 4), 1000, 1000, ids, scores);
        Assert.Equal(1000, found);
        Assert.Equal(1000, ids.Distinct().Count());
        for (var i = 1; i < found; i++) Assert.True(scores[i - 1] >= scores[i]);
    }

    [Fact]
    public void Deleted_items_are_never_returned()
    {
        var data = Clustered(3000, 16, 16, seed: 8);
        var index = HnswIndex.Build(data, 16, HnswMetric.InnerProduct, new HnswParameters(8, 60), 1);
        var query = data.AsSpan(100 * 16, 16).ToArray();
        var ids = new int[20];
        index.Search(query, 20, 64, ids, new float[20]);
        Assert.Equal(100, ids[0]);
        foreach (var id in ids) Assert.True(index.Delete(id));
        Assert.False(index.Delete(ids[0]));
        var after = new int[20];
        Assert.Equal(20, index.Search(query, 20, 64, after, new float[20]));
        Assert.Empty(after.Intersect(ids));
        Assert.Equal(20, index.DeletedCount);
    }

    [Fact]
    public void Single_threaded_builds_with_the_same_seed_are_identical()
    {
        var data = Clustered(2000, 16, 8, seed: 2);
        var a = new MemoryStream();
        var b = new MemoryStream();
        HnswPersistence.Save(HnswIndex.Build(data, 16, HnswMetric.InnerProduct, new HnswParameters(8, 40, Seed: 5), 1), a);
        HnswPersistence.Save(HnswIndex.Build(data, 16, HnswMetric.InnerProduct, new HnswParameters(8, 40, Seed: 5), 1), b);
        Assert.Equal(a.ToArray(), b.ToArray());
        var c = new MemoryStream();
        HnswPersistence.Save(HnswIndex.Build(data, 16, HnswMetric.InnerProduct, new HnswParameters(8, 40, Seed: 6), 1), c);
        Assert.NotEqual(a.ToArray(), c.ToArray());
    }

    [Fact]
    public async Task Concurrent_add_and_search_is_safe_and_an_added_item_is_findable_when_add_returns()
    {
        const int dims = 16;
        var data = Clustered(6000, dims, 16, seed: 13);
        var index = HnswIndex.Build(data.AsSpan(0, 2000 * dims), dims, HnswMetric.InnerProduct, new HnswParameters(12, 60), threads: 1, capacity: 6000);
        using var stop = new CancellationTokenSource();
        var searches = 0;
        // Adds start only once both searchers are searching, so they really overlap even on a loaded machine.
        using var searching = new CountdownEvent(2);
        var searchers = Enumerable.Range(0, 2).Select(t => Task.Run(() =>
        {
            var ids = new int[10];
            var scores = new float[10];
            var rng = new Random(t);
            while (!stop.IsCancellationRequested)
            {
                var found = index.Search(data.AsSpan(rng.Next(6000) * dims, dims), 10, 32, ids, scores);
                Assert.Equal(10, found);
                Assert.All(ids, id => Assert.InRange(id, 0, index.Count - 1));
                if (Interlocked.Increment(ref searches) <= 2) searching.Signal();
            }
        })).ToArray();
        Assert.True(searching.Wait(TimeSpan.FromSeconds(30)), "the searchers never started");
        var adders = Enumerable.Range(0, 2).Select(t => Task.Run(() =>
        {
            var ids = new int[1];
            var scores = new float[1];
            for (var i = 2000 + t; i < 6000; i += 2)
            {
                var id = index.Add(data.AsSpan(i * dims, dims));
                index.Search(index.Vector(id), 1, 64, ids, scores);
                Assert.Equal(1f, scores[0], 3); // itself (or an identical vector)
            }
        })).ToArray();
        await Task.WhenAll(adders);
        await stop.CancelAsync();
        await Task.WhenAll(searchers);
        Assert.Equal(6000, index.Count);
        Assert.True(searches > 0);
        Assert.Throws<InvalidOperationException>(() => index.Add(data.AsSpan(0, dims)));
        // Adding concurrently with searches builds as good a graph as a serial build of the same items.
        var recall = Recall(index, data, dims, 100, 10, 64, seed: 17);
        var serial = Recall(HnswIndex.Build(data, dims, HnswMetric.InnerProduct, new HnswParameters(12, 60), threads: 1), data, dims, 100, 10, 64, seed: 17);
        Assert.True(recall >= serial - 0.03, $"recall@10 after concurrent adds {recall}, serial build {serial}");
    }

    [Fact]
    public void Save_and_load_round_trip_gives_identical_results()
    {
        var (_, index) = Shared20k.Value;
        var path = Path.Combine(Path.GetTempPath(), $"hnsw-{Guid.NewGuid():N}.bin");
        try
        {
            HnswPersistence.Save(index, path);
            var loaded = HnswPersistence.Load(path);
            Assert.Equal(index.Count, loaded.Count);
            var queries = Clustered(50, 32, 64, seed: 99);
            for (var q = 0; q < 50; q++)
            {
                var a = new int[50];
                var b = new int[50];
                var sa = new float[50];
                var sb = new float[50];
                index.Search(queries.AsSpan(q * 32, 32), 50, 80, a, sa);
                loaded.Search(queries.AsSpan(q * 32, 32), 50, 80, b, sb);
                Assert.Equal(a, b);
                Assert.Equal(sa, sb);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_corrupt_or_truncated_file_is_refused_with_a_clear_error()
    {
        var data = Clustered(1000, 8, 4, seed: 3);
        var stream = new MemoryStream();
        HnswPersistence.Save(HnswIndex.Build(data, 8, HnswMetric.InnerProduct, new HnswParameters(8, 40), 1), stream);
        var bytes = stream.ToArray();

        var flipped = (byte[])bytes.Clone();
        flipped[bytes.Length / 2] ^= 0x40;
        Assert.Contains("checksum", Assert.Throws<InvalidDataException>(() => HnswPersistence.Load(new MemoryStream(flipped))).Message, StringComparison.Ordinal);

        var truncated = bytes.AsSpan(0, bytes.Length - 100).ToArray();
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => HnswPersistence.Load(new MemoryStream(truncated))).Message, StringComparison.Ordinal);

        var wrongMagic = (byte[])bytes.Clone();
        wrongMagic[0] = (byte)'X';
        Assert.Contains("magic", Assert.Throws<InvalidDataException>(() => HnswPersistence.Load(new MemoryStream(wrongMagic))).Message, StringComparison.Ordinal);

        var path = Path.Combine(Path.GetTempPath(), $"hnsw-{Guid.NewGuid():N}.bin");
        try
        {
            File.WriteAllBytes(path, truncated);
            var ex = Assert.Throws<InvalidDataException>(() => HnswPersistence.Load(path));
            Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
