using System.Text.Json;
using RecSys.Ranking;
using RecSys.Ranking.Onnx;

namespace RecSys.Tests.Ranking;

/// <summary>A temporary models folder written the way the trainer will write one: version folders, manifest, <c>current</c>.</summary>
internal sealed class ModelFolder : IDisposable
{
    public ModelFolder()
    {
        Root = Path.Combine(Path.GetTempPath(), "recsys-models-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    /// <summary>Writes <c>version/</c> with the two models and the manifest, and points <c>current</c> at it.</summary>
    public void Write(string version, IReadOnlyList<string> features, RankerNetwork? pre, RankerNetwork ranker, IReadOnlyDictionary<string, double> weights, bool makeCurrent = true)
    {
        var directory = Path.Combine(Root, version);
        Directory.CreateDirectory(directory);
        if (pre is not null) File.WriteAllBytes(Path.Combine(directory, "pre.onnx"), OnnxWriter.Write(pre));
        File.WriteAllBytes(Path.Combine(directory, "ranker.onnx"), OnnxWriter.Write(ranker));
        var manifest = new ModelManifest(version, features, pre is null ? null : new PreRankerManifest("pre.onnx", pre.Heads[0].Name), new RankerManifest("ranker.onnx", weights));
        File.WriteAllText(Path.Combine(directory, "manifest.json"), JsonSerializer.Serialize(manifest, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
        if (makeCurrent) MakeCurrent(version);
    }

    /// <summary>Like <see cref="Write"/>, with model files already written as ONNX bytes (by <see cref="OnnxModelExport"/>, as the trainer does).</summary>
    public void WriteOnnx(string version, IReadOnlyList<string> features, byte[]? pre, byte[] ranker, IReadOnlyDictionary<string, double> weights, bool makeCurrent = true)
    {
        var directory = Path.Combine(Root, version);
        Directory.CreateDirectory(directory);
        if (pre is not null) File.WriteAllBytes(Path.Combine(directory, "pre.onnx"), pre);
        File.WriteAllBytes(Path.Combine(directory, "ranker.onnx"), ranker);
        var manifest = new ModelManifest(version, features, pre is null ? null : new PreRankerManifest("pre.onnx", "score"), new RankerManifest("ranker.onnx", weights));
        File.WriteAllText(Path.Combine(directory, "manifest.json"), JsonSerializer.Serialize(manifest, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
        if (makeCurrent) MakeCurrent(version);
    }

    public void MakeCurrent(string version) => File.WriteAllText(Path.Combine(Root, "current"), version + "\n");

    public string PathOf(string version, string file) => Path.Combine(Root, version, file);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
