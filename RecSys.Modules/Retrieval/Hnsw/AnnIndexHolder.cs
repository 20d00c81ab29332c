using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace RecSys.Retrieval.Hnsw;

/// <summary>
/// Builds the HNSW index whenever item embeddings are published, on a background task, and hands it out only for the
/// embeddings it was built from: until the index of the current embeddings is ready, retrieval uses the exact scan.
/// </summary>
internal sealed partial class AnnIndexHolder(IOptions<RetrievalOptions> options, ILogger<AnnIndexHolder> logger)
{
    private sealed record Built(ItemEmbeddings Source, HnswIndex Index, double Seconds);

    private volatile Built? _built;
    private volatile ItemEmbeddings? _failed;
    private ItemEmbeddingStore? _store;
    private Task _building = Task.CompletedTask;

    /// <summary>Subscribes to the store (and builds for its current vectors, if any).</summary>
    public void Attach(ItemEmbeddingStore store)
    {
        _store = store;
        store.Published += OnPublished;
        if (store.Current is { } current) OnPublished(current);
    }

    /// <summary>The build in progress (or the last one), for tests and tools that must wait for the index.</summary>
    public Task Building => Volatile.Read(ref _building);

    /// <summary>The index built from exactly these embeddings, or null while it is being built (or not configured).</summary>
    public HnswIndex? For(ItemEmbeddings embeddings) => _built is { } built && ReferenceEquals(built.Source, embeddings) ? built.Index : null;

    /// <summary>True when the build for these embeddings failed: the exact scan keeps serving.</summary>
    public bool Failed(ItemEmbeddings embeddings) => ReferenceEquals(_failed, embeddings);

    public string Describe(ItemEmbeddings embeddings) => _built is { } built && ReferenceEquals(built.Source, embeddings)
        ? $"hnsw index of embeddings {embeddings.Version}: {built.Index.Count} nodes, M={built.Index.Parameters.M}, built in {built.Seconds:0.0} s"
        : $"hnsw index of embeddings {embeddings.Version} not built yet: the exact scan serves";

    private void OnPublished(ItemEmbeddings embeddings)
    {
        var o = options.Value;
        if (!o.UsesIndex) return;
        var threads = o.HnswBuildThreads > 0 ? o.HnswBuildThreads : Environment.ProcessorCount;
        LogBuilding(embeddings.Version, embeddings.Count, embeddings.Dimensions, threads);
        var task = Task.Run(() => Build(embeddings, o, threads));
        Volatile.Write(ref _building, task);
    }

    private void Build(ItemEmbeddings embeddings, RetrievalOptions o, int threads)
    {
        try
        {
            var watch = Stopwatch.StartNew();
            var index = HnswIndex.Build(embeddings.Data, embeddings.Dimensions, HnswMetric.InnerProduct,
                new HnswParameters(o.HnswM, o.HnswEfConstruction, unchecked((ulong)o.HnswSeed)), threads);
            index.EfSearch = o.HnswEfSearch;
            if (_store is not null && !ReferenceEquals(_store.Current, embeddings))
            {
                LogSuperseded(embeddings.Version);
                return;
            }
            _built = new Built(embeddings, index, watch.Elapsed.TotalSeconds);
            LogBuilt(embeddings.Version, index.Count, watch.Elapsed.TotalSeconds, index.MemoryBytes / 1048576.0);
        }
        catch (Exception ex)
        {
            _failed = embeddings;
            LogBuildFailed(ex, embeddings.Version);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Building the HNSW index of embeddings {Version} ({Count} x {Dimensions}) on {Threads} threads; the exact scan serves until it is ready")]
    private partial void LogBuilding(string version, int count, int dimensions, int threads);

    [LoggerMessage(Level = LogLevel.Information, Message = "HNSW index of embeddings {Version} ready: {Count} nodes in {Seconds:0.0} s, {MiB:0} MiB; retrieval now uses the index")]
    private partial void LogBuilt(string version, int count, double seconds, double mib);

    [LoggerMessage(Level = LogLevel.Information, Message = "HNSW index of embeddings {Version} discarded: newer embeddings were published while it was built")]
    private partial void LogSuperseded(string version);

    [LoggerMessage(Level = LogLevel.Error, Message = "Building the HNSW index of embeddings {Version} failed; the exact scan keeps serving")]
    private partial void LogBuildFailed(Exception exception, string version);
}
