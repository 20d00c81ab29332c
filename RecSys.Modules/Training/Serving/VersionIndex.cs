using RecSys.Retrieval;

namespace RecSys.Training.Serving;

/// <summary>
/// The saved HNSW index of a model version: built by the trainer over the final item vectors with the service's HNSW
/// settings and written beside them, so a replica loading the version starts without building it.
/// </summary>
internal static class VersionIndex
{
    /// <summary>Writes <see cref="Trainer.HnswIndexFile"/> into <paramref name="directory"/>; returns its file name, or null when <paramref name="options"/> is null (no index wanted).</summary>
    public static string? Write(string directory, float[] itemVectors, int dimensions, RetrievalOptions? options, IProgress<string>? progress)
    {
        if (options is null || itemVectors.Length == 0) return null;
        var info = HnswIndexFiles.Write(itemVectors, dimensions, options, Path.Combine(directory, Trainer.HnswIndexFile));
        progress?.Report($"HNSW index: {info.Count:N0} x {info.Dimensions}, M={info.M}, efConstruction={info.EfConstruction}, {info.Bytes / 1048576.0:0.0} MiB in {info.Seconds:0.0} s");
        return Trainer.HnswIndexFile;
    }
}
