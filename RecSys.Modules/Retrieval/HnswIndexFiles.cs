using System.Diagnostics;
using RecSys.Retrieval.Hnsw;

namespace RecSys.Retrieval;

/// <summary>What <see cref="HnswIndexFiles.Write"/> wrote.</summary>
public sealed record HnswIndexFileInfo(string Path, int Count, int Dimensions, int M, int EfConstruction, long Bytes, double Seconds);

/// <summary>
/// Saved HNSW indexes for tools (the trainer writes one into each model version): built exactly as the service builds
/// its own (inner product, <see cref="RetrievalOptions.HnswM"/>, <see cref="RetrievalOptions.HnswEfConstruction"/>,
/// <see cref="RetrievalOptions.HnswSeed"/>), in the checksummed file format the service loads. A service handed
/// vectors with such a file (<see cref="ItemEmbeddings.IndexFile"/>) loads it instead of building when it holds
/// exactly those vectors and was built with the service's M and efConstruction.
/// </summary>
public static class HnswIndexFiles
{
    /// <summary>Builds the index of <paramref name="vectors"/> (row-major, <paramref name="dimensions"/> wide) and writes it to <paramref name="path"/>.</summary>
    public static HnswIndexFileInfo Write(ReadOnlySpan<float> vectors, int dimensions, RetrievalOptions options, string path)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        var watch = Stopwatch.StartNew();
        var threads = options.HnswBuildThreads > 0 ? options.HnswBuildThreads : Environment.ProcessorCount;
        var parameters = new HnswParameters(options.HnswM, options.HnswEfConstruction, unchecked((ulong)options.HnswSeed));
        var index = HnswIndex.Build(vectors, dimensions, HnswMetric.InnerProduct, parameters, threads);
        HnswPersistence.Save(index, path);
        return new HnswIndexFileInfo(path, index.Count, dimensions, parameters.M, parameters.EfConstruction, new FileInfo(path).Length, watch.Elapsed.TotalSeconds);
    }
}
