using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;

namespace RecSys.Ranking.Onnx;

/// <summary>
/// The loaded native ONNX Runtime: its function table, one process-wide <c>OrtEnv</c>, the CPU memory description and
/// the default allocator. A library is loaded once per path and lives as long as the process (ORT's env is a
/// process-wide singleton, and unloading a library with live thread pools is unsafe).
/// </summary>
internal sealed unsafe class OnnxRuntime
{
    public const string LibraryFileName = "libonnxruntime.so.1";
    public const string PinnedVersion = "1.30.0";

    private static readonly ConcurrentDictionary<string, Lazy<OnnxRuntime>> Loaded = new(StringComparer.Ordinal);

    private OnnxRuntime(string path, OrtApi api, string version, OrtEnvHandle env, OrtMemoryInfoHandle cpuMemory, nint allocator)
    {
        LibraryPath = path;
        Api = api;
        Version = version;
        Env = env;
        CpuMemory = cpuMemory;
        Allocator = allocator;
    }

    public string LibraryPath { get; }
    public OrtApi Api { get; }
    public string Version { get; }
    public OrtEnvHandle Env { get; }
    public OrtMemoryInfoHandle CpuMemory { get; }
    public nint Allocator { get; }

    /// <summary>The runtime at the configured path, else beside the binaries, else in the set-up scripts' <c>.native/</c> folder.</summary>
    /// <exception cref="OnnxRuntimeException">The library is missing, is not ONNX Runtime, or is too old; the message says how to get it.</exception>
    public static OnnxRuntime Load(string? configuredPath)
    {
        var path = Resolve(configuredPath);
        var lazy = Loaded.GetOrAdd(path, p => new Lazy<OnnxRuntime>(() => LoadFrom(p), LazyThreadSafetyMode.ExecutionAndPublication));
        try
        {
            return lazy.Value;
        }
        catch
        {
            Loaded.TryRemove(path, out _);
            throw;
        }
    }

    internal static string HowToGetIt =>
        $"Run ./scripts/setup's native_onnxruntime step (./scripts/run and ./scripts/test do it), which fetches {LibraryFileName} " +
        $"from the npm package onnxruntime-node@{PinnedVersion} into .native/onnxruntime/{PinnedVersion}/ and the build copies it beside the binaries; " +
        "or set Ranking:OnnxRuntimePath to a libonnxruntime.so.1 (a CUDA build of ONNX Runtime is dropped in the same way).";

    internal static string Resolve(string? configuredPath)
    {
        if (!string.IsNullOrWhiteSpace(configuredPath))
        {
            var full = Path.GetFullPath(configuredPath);
            if (Directory.Exists(full)) full = Path.Combine(full, LibraryFileName);
            if (File.Exists(full)) return full;
            throw new OnnxRuntimeException(OrtErrorCode.NoSuchFile, $"ONNX Runtime library not found at Ranking:OnnxRuntimePath = {full}. {HowToGetIt}");
        }
        var looked = new List<string>();
        var beside = Path.Combine(AppContext.BaseDirectory, LibraryFileName);
        looked.Add(beside);
        if (File.Exists(beside)) return beside;
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        for (var up = 0; up < 8 && directory is not null; up++, directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, ".native", "onnxruntime", PinnedVersion, LibraryFileName);
            if (File.Exists(candidate)) return candidate;
        }
        looked.Add($".native/onnxruntime/{PinnedVersion}/ above {AppContext.BaseDirectory}");
        throw new OnnxRuntimeException(OrtErrorCode.NoSuchFile, $"ONNX Runtime library {LibraryFileName} not found (looked in {string.Join("; ", looked)}). {HowToGetIt}");
    }

    private static OnnxRuntime LoadFrom(string path)
    {
        if (!NativeLibrary.TryLoad(path, out var library))
        {
            throw new OnnxRuntimeException(OrtErrorCode.Fail, $"{path} could not be loaded as a native library (wrong file, architecture or missing dependencies). {HowToGetIt}");
        }
        if (!NativeLibrary.TryGetExport(library, "OrtGetApiBase", out var getApiBase))
        {
            throw new OnnxRuntimeException(OrtErrorCode.Fail, $"{path} is not ONNX Runtime: it exports no OrtGetApiBase. {HowToGetIt}");
        }
        var apiBase = ((delegate* unmanaged<nint>)getApiBase)();
        var getApi = ((delegate* unmanaged<uint, nint>*)apiBase)[0];
        var getVersion = ((delegate* unmanaged<byte*>*)apiBase)[1];
        var version = Marshal.PtrToStringUTF8((nint)getVersion()) ?? "?";
        var table = getApi(OrtApi.ApiVersion);
        if (table == 0)
        {
            throw new OnnxRuntimeException(OrtErrorCode.Fail, $"{path} is ONNX Runtime {version}, which does not offer C API version {OrtApi.ApiVersion}. {HowToGetIt}");
        }
        NativeLibrary.TryGetExport(library, "OrtSessionOptionsAppendExecutionProvider_CUDA", out var cuda);
        var api = new OrtApi(table, cuda);

        nint env, memory, allocator;
        var logId = Encoding.UTF8.GetBytes("recsys\0");
        fixed (byte* id = logId)
        {
            // Severity 4 = fatal only: every error also comes back as an OrtStatus, which we log or throw, so ORT's own
            // stderr lines (e.g. the CUDA provider library missing under auto) would only duplicate ours.
            api.Check(api.CreateEnv(4, id, &env), "CreateEnv");
        }
        var envHandle = new OrtEnvHandle(env, api);
        api.Check(api.CreateCpuMemoryInfo(1 /* OrtArenaAllocator */, 0 /* OrtMemTypeDefault */, &memory), "CreateCpuMemoryInfo");
        api.Check(api.GetAllocatorWithDefaultOptions(&allocator), "GetAllocatorWithDefaultOptions");
        return new OnnxRuntime(path, api, version, envHandle, new OrtMemoryInfoHandle(memory, api), allocator);
    }

    /// <summary>The execution providers this build of the library contains (contained is not the same as usable).</summary>
    public IReadOnlyList<string> AvailableProviders()
    {
        byte** names;
        int count;
        Api.Check(Api.GetAvailableProviders(&names, &count), "GetAvailableProviders");
        var result = new string[count];
        for (var i = 0; i < count; i++) result[i] = Marshal.PtrToStringUTF8((nint)names[i]) ?? "";
        Api.Check(Api.ReleaseAvailableProviders(names, count), "ReleaseAvailableProviders");
        return result;
    }
}
