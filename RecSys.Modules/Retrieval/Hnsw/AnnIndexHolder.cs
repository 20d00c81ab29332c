using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace RecSys.Retrieval.Hnsw;

/// <summary>
/// Builds the HNSW index whenever item embeddings are published, on a background task, and hands it out only for the
/// embeddings it was built from: until the index of the current embeddings is ready, retrieval uses the exact scan.
/// </summary>
internal sealed partial class AnnIndexHolder(IOptions<RetrievalOptions> options, ILogger<AnnIndexHolder> logger)
{
    private sealed record Built(ItemEmbeddings Source, HnswIndex Index, double Seconds, bool FromCache, bool FromFile);

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

    /// <summary>True when the index of these embeddings was loaded from the cache directory rather than built.</summary>
    public bool LoadedFromCache(ItemEmbeddings embeddings) => _built is { } built && ReferenceEquals(built.Source, embeddings) && built.FromCache;

    /// <summary>True when the index of these embeddings was loaded from the file they came with (<see cref="ItemEmbeddings.IndexFile"/>).</summary>
    public bool LoadedFromFile(ItemEmbeddings embeddings) => _built is { } built && ReferenceEquals(built.Source, embeddings) && built.FromFile;

    public string Describe(ItemEmbeddings embeddings) => _built is { } built && ReferenceEquals(built.Source, embeddings)
        ? $"hnsw index of embeddings {embeddings.Version}: {built.Index.Count} nodes, M={built.Index.Parameters.M}, {How(built)} in {built.Seconds:0.0} s"
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
            var parameters = new HnswParameters(o.HnswM, o.HnswEfConstruction, unchecked((ulong)o.HnswSeed));
            var index = embeddings.IndexFile is { } file ? TryLoadOffered(file, embeddings, parameters) : null;
            var fromFile = index is not null;
            var cachePath = fromFile ? null : CachePath(embeddings, parameters, o.IndexCacheDirectory);
            index ??= cachePath is null ? null : TryLoadCached(cachePath, embeddings);
            var fromCache = index is not null && !fromFile;
            if (index is null)
            {
                index = HnswIndex.Build(embeddings.Data, embeddings.Dimensions, HnswMetric.InnerProduct, parameters, threads);
                if (cachePath is not null) TrySaveCached(index, cachePath);
            }
            index.EfSearch = o.HnswEfSearch;
            if (_store is not null && !ReferenceEquals(_store.Current, embeddings))
            {
                LogSuperseded(embeddings.Version);
                return;
            }
            var built = new Built(embeddings, index, watch.Elapsed.TotalSeconds, fromCache, fromFile);
            _built = built;
            LogBuilt(embeddings.Version, index.Count, How(built), watch.Elapsed.TotalSeconds, index.MemoryBytes / 1048576.0);
        }
        catch (Exception ex)
        {
            _failed = embeddings;
            LogBuildFailed(ex, embeddings.Version);
        }
    }

    /// <summary>
    /// The cache file of an index: named by a hash of the vectors' bytes and the build parameters, so a file can only be
    /// reused for exactly the vectors and settings it was built from (the file's own checksum guards its contents).
    /// </summary>
    internal static string? CachePath(ItemEmbeddings embeddings, HnswParameters parameters, string? directory)
    {
        if (string.IsNullOrWhiteSpace(directory)) return null;
        const ulong prime = 0x100000001B3UL;
        var hash = 0xCBF29CE484222325UL;
        void Mix(ulong value) => hash = unchecked((hash ^ value) * prime);
        Mix((ulong)embeddings.Dimensions);
        Mix((ulong)embeddings.Count);
        Mix((ulong)parameters.M);
        Mix((ulong)parameters.EfConstruction);
        Mix(parameters.Seed);
        var data = MemoryMarshal.AsBytes(embeddings.Data.AsSpan());
        foreach (var word in MemoryMarshal.Cast<byte, ulong>(data[..(data.Length & ~7)])) Mix(word);
        for (var i = data.Length & ~7; i < data.Length; i++) Mix(data[i]);
        return Path.Combine(directory, $"hnsw-{hash:x16}.bin");
    }

    private static string How(Built built) => built.FromFile ? "loaded from the model version's file" : built.FromCache ? "loaded from the cache" : "built";

    /// <summary>
    /// The index file offered with the embeddings, when it is sound (its checksum), was built with the service's M and
    /// efConstruction for inner product, and holds exactly the served vectors (compared row by row: the file carries
    /// them); otherwise null, with the file and the reason logged.
    /// </summary>
    private HnswIndex? TryLoadOffered(string path, ItemEmbeddings embeddings, HnswParameters parameters)
    {
        try
        {
            var index = HnswPersistence.Load(path);
            string? mismatch = null;
            if (index.Metric != HnswMetric.InnerProduct || index.Count != embeddings.Count || index.Dimensions != embeddings.Dimensions)
            {
                mismatch = $"it holds {index.Count} x {index.Dimensions} ({index.Metric}), the served vectors are {embeddings.Count} x {embeddings.Dimensions} (InnerProduct)";
            }
            else if (index.Parameters.M != parameters.M || index.Parameters.EfConstruction != parameters.EfConstruction)
            {
                mismatch = $"it was built with M={index.Parameters.M}, efConstruction={index.Parameters.EfConstruction}; the service uses M={parameters.M}, efConstruction={parameters.EfConstruction}";
            }
            else
            {
                for (var i = 0; i < index.Count; i++)
                {
                    if (!index.Vector(i).SequenceEqual(embeddings.Vector(i)))
                    {
                        mismatch = $"its vector {i} differs from the served one (the catalog does not line up with the trained items)";
                        break;
                    }
                }
            }
            if (mismatch is null) return index;
            LogOfferedMismatch(path, mismatch);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            LogOfferedRefused(path, ex.Message);
        }
        return null;
    }

    private HnswIndex? TryLoadCached(string path, ItemEmbeddings embeddings)
    {
        if (!File.Exists(path)) return null;
        try
        {
            var index = HnswPersistence.Load(path);
            if (index.Count == embeddings.Count && index.Dimensions == embeddings.Dimensions && index.Metric == HnswMetric.InnerProduct) return index;
            LogCacheRefused(path, $"it holds {index.Count} x {index.Dimensions} ({index.Metric}), the embeddings are {embeddings.Count} x {embeddings.Dimensions}");
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            LogCacheRefused(path, ex.Message);
        }
        return null;
    }

    private void TrySaveCached(HnswIndex index, string path)
    {
        // Written under a unique name and renamed, so a reader never sees half a file and concurrent writers don't collide.
        var temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            HnswPersistence.Save(index, temporary);
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogCacheNotWritten(path, ex.Message);
            try { File.Delete(temporary); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "HNSW index cache {Path} refused ({Reason}); building the index instead")]
    private partial void LogCacheRefused(string path, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "HNSW index file {Path} refused ({Reason}); building the index instead")]
    private partial void LogOfferedRefused(string path, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "HNSW index file {Path} not used: {Reason}; building the index instead")]
    private partial void LogOfferedMismatch(string path, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "HNSW index cache {Path} not written ({Reason}); the next start builds again")]
    private partial void LogCacheNotWritten(string path, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Preparing the HNSW index of embeddings {Version} ({Count} x {Dimensions}): from the cache if it has one, else built on {Threads} threads; the exact scan serves until it is ready")]
    private partial void LogBuilding(string version, int count, int dimensions, int threads);

    [LoggerMessage(Level = LogLevel.Information, Message = "HNSW index of embeddings {Version} ready: {Count} nodes {How} in {Seconds:0.0} s, {MiB:0} MiB; retrieval now uses the index")]
    private partial void LogBuilt(string version, int count, string how, double seconds, double mib);

    [LoggerMessage(Level = LogLevel.Information, Message = "HNSW index of embeddings {Version} discarded: newer embeddings were published while it was built")]
    private partial void LogSuperseded(string version);

    [LoggerMessage(Level = LogLevel.Error, Message = "Building the HNSW index of embeddings {Version} failed; the exact scan keeps serving")]
    private partial void LogBuildFailed(Exception exception, string version);
}
