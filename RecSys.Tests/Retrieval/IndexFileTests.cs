using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RecSys.Retrieval;
using RecSys.Retrieval.Hnsw;

namespace RecSys.Tests.Retrieval;

/// <summary>A saved index offered with the vectors (a model version's) is loaded instead of built, only when it is sound and holds exactly those vectors.</summary>
public sealed class IndexFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("recsys-index-file-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static float[] Vectors(int seed)
    {
        var rng = new Random(seed);
        var data = new float[1500 * 16];
        for (var i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() - 0.5);
        return data;
    }

    private sealed class Lines : ILogger<AnnIndexHolder>
    {
        public List<string> All { get; } = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (All) All.Add(formatter(state, exception));
        }
    }

    private static async Task<(AnnIndexHolder Holder, Lines Log)> AttachAsync(ItemEmbeddings embeddings, int m = 16)
    {
        var log = new Lines();
        var holder = new AnnIndexHolder(Options.Create(new RetrievalOptions { IndexCacheDirectory = "", HnswBuildThreads = 1, HnswM = m }), log);
        var store = new ItemEmbeddingStore();
        store.Publish(embeddings);
        holder.Attach(store);
        await holder.Building;
        Assert.NotNull(holder.For(embeddings)); // served by an index either way
        return (holder, log);
    }

    [Fact]
    public async Task The_offered_file_is_loaded_when_it_holds_the_served_vectors_and_refused_otherwise()
    {
        var data = Vectors(1);
        var file = Path.Combine(_directory, "item_vectors.hnsw");
        var info = HnswIndexFiles.Write(data, 16, new RetrievalOptions { HnswBuildThreads = 1 }, file);
        Assert.Equal((1500, 16, 16), (info.Count, info.Dimensions, info.M));

        var same = new ItemEmbeddings("v1", 16, data) { IndexFile = file };
        var (holder, _) = await AttachAsync(same);
        Assert.True(holder.LoadedFromFile(same));
        var ids = new int[10];
        Assert.Equal(10, holder.For(same)!.Search(data.AsSpan(16 * 7, 16), 10, 64, ids, new float[10]));
        Assert.Contains(7, ids);

        // Other vectors of the same shape (the catalog does not line up with the trained items): built instead.
        var other = new ItemEmbeddings("v2", 16, Vectors(2)) { IndexFile = file };
        var (second, log) = await AttachAsync(other);
        Assert.False(second.LoadedFromFile(other));
        Assert.Contains(log.All, l => l.Contains(file, StringComparison.Ordinal) && l.Contains("differs", StringComparison.Ordinal));

        // The service's M differs from the file's: built with the service's.
        var (third, mLog) = await AttachAsync(same, m: 12);
        Assert.False(third.LoadedFromFile(same));
        Assert.Equal(12, third.For(same)!.Parameters.M);
        Assert.Contains(mLog.All, l => l.Contains("M=16", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_corrupt_file_is_refused_with_its_name_and_the_index_is_built()
    {
        var data = Vectors(3);
        var file = Path.Combine(_directory, "item_vectors.hnsw");
        HnswIndexFiles.Write(data, 16, new RetrievalOptions { HnswBuildThreads = 1 }, file);
        var bytes = await File.ReadAllBytesAsync(file);
        bytes[bytes.Length / 2] ^= 0x5A;
        await File.WriteAllBytesAsync(file, bytes);

        var embeddings = new ItemEmbeddings("v3", 16, data) { IndexFile = file };
        var (holder, log) = await AttachAsync(embeddings);
        Assert.False(holder.LoadedFromFile(embeddings));
        Assert.Contains(log.All, l => l.Contains(file, StringComparison.Ordinal) && l.Contains("refused", StringComparison.Ordinal));
        Assert.Contains(log.All, l => l.Contains("built in", StringComparison.Ordinal));
    }
}
