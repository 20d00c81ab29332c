namespace RecSys.Tests.Training;

/// <summary>Temporary directories with small files written by the test itself (never committed MovieLens data).</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "recsys-training-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Write(string name, string content)
    {
        var path = System.IO.Path.Combine(Path, name);
        File.WriteAllText(path, content);
        return path;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Runs only where the MovieLens 100K files are (read-only, not redistributable); skipped with a message elsewhere.</summary>
public sealed class MovieLensFactAttribute : FactAttribute
{
    public static readonly string Directory100K = FindDirectory();

    public MovieLensFactAttribute()
    {
        if (!File.Exists(System.IO.Path.Combine(Directory100K, "u.data")))
        {
            Skip = $"MovieLens 100K not found at {Directory100K} (set RECSYS_ML100K to its directory); it is not redistributable, so it is not in the repository.";
        }
    }

    private static string FindDirectory()
    {
        if (Environment.GetEnvironmentVariable("RECSYS_ML100K") is { Length: > 0 } fromEnvironment) return fromEnvironment;
        // ../shared/datasets/ml-100k beside the repository root, found by walking up from the test binaries.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "shared", "datasets", "ml-100k");
            if (File.Exists(System.IO.Path.Combine(candidate, "u.data"))) return candidate;
        }
        return "/work/shared/datasets/ml-100k";
    }
}
