using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RecSys.Retrieval;
using RecSys.Retrieval.Hnsw;

namespace RecSys.Tests.Retrieval;

/// <summary>A restart with the same vectors loads the built index from the cache directory; a bad cache file is rebuilt.</summary>
public sealed class IndexCacheTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "recsys-index-cache-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    private static ItemEmbeddings Embeddings(int seed)
    {
        var rng = new Random(seed);
        var data = new float[2000 * 16];
        for (var i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() - 0.5);
        return new ItemEmbeddings($"t{seed}", 16, data);
    }

    private async Task<AnnIndexHolder> AttachAsync(ItemEmbeddings embeddings)
    {
        var holder = new AnnIndexHolder(Options.Create(new RetrievalOptions { IndexCacheDirectory = _directory, HnswBuildThreads = 1 }), NullLogger<AnnIndexHolder>.Instance);
        var store = new ItemEmbeddingStore();
        store.Publish(embeddings);
        holder.Attach(store);
        await holder.Building;
        Assert.NotNull(holder.For(embeddings));
        return holder;
    }

    [Fact]
    public async Task The_second_start_loads_the_same_index_and_other_vectors_get_their_own_file()
    {
        var embeddings = Embeddings(1);
        var first = await AttachAsync(embeddings);
        Assert.False(first.LoadedFromCache(embeddings));
        Assert.Single(Directory.GetFiles(_directory, "hnsw-*.bin"));

        var second = await AttachAsync(embeddings);
        Assert.True(second.LoadedFromCache(embeddings));
        var query = embeddings.Vector(7).ToArray();
        var (a, b) = (new int[10], new int[10]);
        first.For(embeddings)!.Search(query, 10, 64, a, new float[10]);
        second.For(embeddings)!.Search(query, 10, 64, b, new float[10]);
        Assert.Equal(a, b);

        // Different vectors (same shape) never reuse that file.
        var other = Embeddings(2);
        Assert.False((await AttachAsync(other)).LoadedFromCache(other));
        Assert.Equal(2, Directory.GetFiles(_directory, "hnsw-*.bin").Length);
    }

    [Fact]
    public async Task A_corrupt_cache_file_is_refused_rebuilt_and_replaced()
    {
        var embeddings = Embeddings(3);
        await AttachAsync(embeddings);
        var file = Assert.Single(Directory.GetFiles(_directory, "hnsw-*.bin"));
        var bytes = await File.ReadAllBytesAsync(file);
        await File.WriteAllBytesAsync(file, bytes[..(bytes.Length / 2)]);

        var rebuilt = await AttachAsync(embeddings);
        Assert.False(rebuilt.LoadedFromCache(embeddings));
        Assert.Equal(bytes.Length, new FileInfo(file).Length);
        Assert.True((await AttachAsync(embeddings)).LoadedFromCache(embeddings));
    }
}
