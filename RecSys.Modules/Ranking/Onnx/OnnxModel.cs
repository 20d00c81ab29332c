using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace RecSys.Ranking.Onnx;

/// <summary>How an inference session is created.</summary>
internal sealed record OnnxSessionSettings(string ExecutionProvider = "cpu", int IntraOpThreads = 1, string GraphOptimizationLevel = "all", int CudaDeviceId = 0)
{
    public static OnnxSessionSettings From(RankingOptions options) =>
        new(options.ExecutionProvider, options.IntraOpThreads, options.GraphOptimizationLevel, options.CudaDeviceId);

    internal int OptimizationLevelValue => GraphOptimizationLevel switch
    {
        "disable" => 0,
        "basic" => 1,
        "extended" => 2,
        "all" => 99,
        _ => throw new ArgumentException($"Unknown graph optimisation level '{GraphOptimizationLevel}' (disable, basic, extended, all)."),
    };
}

/// <summary>One output of a run whose buffers ORT allocated (models whose output widths are not fixed).</summary>
internal sealed record OnnxOutput(string Name, OrtElementType ElementType, long[] Shape, float[] Values);

/// <summary>
/// An ONNX Runtime inference session over one model: its inputs and outputs (names, element types, shapes) and runs over
/// caller-owned buffers. Inputs and fixed-width outputs are wrapped as tensors in place (the spans are pinned for the
/// duration of the native call, nothing is copied); <c>OrtSession::Run</c> is thread-safe, so one model serves many
/// callers. Disposal waits for runs in flight (SafeHandle reference counting).
/// </summary>
internal sealed unsafe partial class OnnxModel : Batching.IBatchModel, IDisposable
{
    private readonly OnnxRuntime _runtime;
    private readonly OrtSessionHandle _session;
    private readonly List<byte[]> _nameBuffers = [];
    private readonly nint[] _inputNames;
    private readonly nint[] _outputNames;
    private readonly int[] _outputWidths;
    private readonly bool[] _outputIsVector;
    private bool _disposed;

    private OnnxModel(OnnxRuntime runtime, OrtSessionHandle session, string provider)
    {
        _runtime = runtime;
        _session = session;
        ExecutionProvider = provider;
        var api = runtime.Api;
        Inputs = ReadInfos(api, session, input: true);
        Outputs = ReadInfos(api, session, input: false);
        _inputNames = Inputs.Select(i => PinnedUtf8(i.Name)).ToArray();
        _outputNames = Outputs.Select(o => PinnedUtf8(o.Name)).ToArray();
        _outputWidths = Outputs.Select(o => FixedWidth(o.Shape)).ToArray();
        _outputIsVector = Outputs.Select(o => o.Shape.Count == 1).ToArray();
        TotalOutputWidth = _outputWidths.All(w => w > 0) ? _outputWidths.Sum() : -1;
    }

    public IReadOnlyList<OnnxTensorInfo> Inputs { get; }
    public IReadOnlyList<OnnxTensorInfo> Outputs { get; }

    /// <summary><c>cpu</c> or <c>cuda</c>: the provider the session was created with.</summary>
    public string ExecutionProvider { get; }

    public bool IsAccelerated => ExecutionProvider == "cuda";

    /// <summary>Columns of the single [N, F] input; -1 when the model leaves F open.</summary>
    public int InputWidth => Inputs.Count == 1 && Inputs[0].Shape.Count == 2 && Inputs[0].Shape[1] > 0 ? (int)Inputs[0].Shape[1] : -1;

    /// <summary>Floats per row over all outputs when every output is [N] or [N, k] with k fixed; else -1.</summary>
    public int TotalOutputWidth { get; }

    public int OutputWidth(int output) => _outputWidths[output];

    int Batching.IBatchModel.OutputWidth => TotalOutputWidth;

    IReadOnlyList<int> Batching.IBatchModel.OutputWidths => _outputWidths;

    void Batching.IBatchModel.Run(ReadOnlySpan<float> input, int rows, Span<float> output) => Run(input, rows, InputWidth, output);

    /// <summary>Where output <paramref name="name"/> starts in a run's output over <paramref name="rows"/> rows, or -1.</summary>
    public int OutputOffset(string name, int rows)
    {
        var before = 0;
        for (var o = 0; o < Outputs.Count; o++)
        {
            if (Outputs[o].Name == name) return rows * before;
            before += _outputWidths[o];
        }
        return -1;
    }

    /// <summary>Loads a model file (ORT reads it, so weights stored as external data beside it are found too).</summary>
    public static OnnxModel Load(OnnxRuntime runtime, string path, OnnxSessionSettings settings, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(settings);
        var full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new OnnxRuntimeException(OrtErrorCode.NoSuchFile, $"Model file {full} does not exist.");
        using var options = CreateOptions(runtime, settings, logger, out var provider);
        var api = runtime.Api;
        nint session;
        var utf8 = System.Text.Encoding.UTF8.GetBytes(full + "\0");
        fixed (byte* p = utf8)
        {
            api.Check(api.CreateSession(runtime.Env.DangerousGetHandle(), p, options.DangerousGetHandle(), &session), $"Loading model {full}");
        }
        return new OnnxModel(runtime, new OrtSessionHandle(session, api), provider);
    }

    /// <summary>Loads a model from bytes in memory.</summary>
    public static OnnxModel Load(OnnxRuntime runtime, ReadOnlySpan<byte> model, OnnxSessionSettings settings, ILogger? logger = null, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(settings);
        using var options = CreateOptions(runtime, settings, logger, out var provider);
        var api = runtime.Api;
        nint session;
        fixed (byte* data = model)
        {
            api.Check(api.CreateSessionFromArray(runtime.Env.DangerousGetHandle(), data, (nuint)model.Length, options.DangerousGetHandle(), &session),
                $"Loading model {name ?? $"({model.Length} bytes)"}");
        }
        return new OnnxModel(runtime, new OrtSessionHandle(session, api), provider);
    }

    private static OrtSessionOptionsHandle CreateOptions(OnnxRuntime runtime, OnnxSessionSettings settings, ILogger? logger, out string provider)
    {
        var api = runtime.Api;
        var level = settings.OptimizationLevelValue; // an unknown level is refused before anything native is made
        nint options;
        api.Check(api.CreateSessionOptions(&options), "CreateSessionOptions");
        var handle = new OrtSessionOptionsHandle(options, api);
        try
        {
            api.Check(api.SetIntraOpNumThreads(options, settings.IntraOpThreads), "SetIntraOpNumThreads");
            api.Check(api.SetInterOpNumThreads(options, 1), "SetInterOpNumThreads");
            api.Check(api.SetSessionExecutionMode(options, 0 /* ORT_SEQUENTIAL */), "SetSessionExecutionMode");
            api.Check(api.SetSessionGraphOptimizationLevel(options, level), "SetSessionGraphOptimizationLevel");
            provider = AppendProvider(runtime, options, settings, logger);
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static string AppendProvider(OnnxRuntime runtime, nint options, OnnxSessionSettings settings, ILogger? logger)
    {
        switch (settings.ExecutionProvider)
        {
            case "cpu":
                return "cpu";
            case "cuda":
            case "auto":
                var error = TryAppendCuda(runtime, options, settings.CudaDeviceId);
                if (error is null) return "cuda";
                if (settings.ExecutionProvider == "cuda")
                {
                    throw new OnnxRuntimeException(OrtErrorCode.EpFail,
                        $"Ranking:ExecutionProvider is 'cuda' but the CUDA execution provider could not be enabled ({runtime.LibraryPath}, ONNX Runtime {runtime.Version}): {error.TrimEnd('.')}. " +
                        "Use a CUDA build of ONNX Runtime with its provider libraries, CUDA and cuDNN, or set Ranking:ExecutionProvider to auto or cpu.");
                }
                if (logger is not null) LogCudaFallback(logger, error);
                return "cpu";
            default:
                throw new ArgumentException($"Unknown execution provider '{settings.ExecutionProvider}' (cpu, cuda, auto).");
        }
    }

    /// <summary>Null when the CUDA provider was appended, else why not.</summary>
    private static string? TryAppendCuda(OnnxRuntime runtime, nint options, int deviceId)
    {
        var api = runtime.Api;
        if (api.AppendCudaProvider == null) return "this build of the library has no CUDA entry point.";
        try
        {
            api.Check(api.AppendCudaProvider(options, deviceId), "Appending the CUDA execution provider");
            return null;
        }
        catch (OnnxRuntimeException ex)
        {
            return ex.Message;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "CUDA execution provider unavailable, ranking on CPU (Ranking:ExecutionProvider=auto): {Reason}")]
    private static partial void LogCudaFallback(ILogger logger, string reason);

    /// <summary>
    /// Runs the model on <paramref name="rows"/> rows of <paramref name="columns"/> values; writes every output into
    /// <paramref name="output"/>, output after output (output o takes rows x width(o) floats). Needs fixed output widths.
    /// </summary>
    public void Run(ReadOnlySpan<float> input, int rows, int columns, Span<float> output) => RunCore(input, OrtElementType.Float, rows, columns, output);

    /// <summary>As <see cref="Run(ReadOnlySpan{float}, int, int, Span{float})"/> for a model whose input is int64.</summary>
    public void Run(ReadOnlySpan<long> input, int rows, int columns, Span<float> output) => RunCore(input, OrtElementType.Int64, rows, columns, output);

    private void RunCore<T>(ReadOnlySpan<T> input, OrtElementType type, int rows, int columns, Span<float> output) where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Inputs.Count != 1) throw new InvalidOperationException($"The model has {Inputs.Count} inputs; runs over one [N, F] input only.");
        if (TotalOutputWidth < 0) throw new InvalidOperationException("The model's output widths are not fixed; use RunAllocated.");
        if (input.Length < rows * columns) throw new ArgumentException($"{rows} rows of {columns} need {rows * columns} values, got {input.Length}.", nameof(input));
        if (output.Length < rows * TotalOutputWidth) throw new ArgumentException($"{rows} rows need {rows * TotalOutputWidth} output floats, got {output.Length}.", nameof(output));
        if (rows == 0) return;

        var api = _runtime.Api;
        var count = _outputNames.Length;
        var shapes = stackalloc long[2 + (2 * count)];
        var values = stackalloc nint[1 + count];
        new Span<nint>(values, 1 + count).Clear();
        var memory = _runtime.CpuMemory.DangerousGetHandle();
        var added = false;
        _session.DangerousAddRef(ref added);
        try
        {
            fixed (T* inData = input)
            fixed (float* outData = output)
            fixed (nint* inNames = _inputNames)
            fixed (nint* outNames = _outputNames)
            {
                shapes[0] = rows;
                shapes[1] = columns;
                api.Check(api.CreateTensorWithDataAsOrtValue(memory, inData, (nuint)(rows * columns * sizeof(T)), shapes, 2, (int)type, &values[0]), "CreateTensorWithDataAsOrtValue (input)");
                var offset = 0;
                for (var o = 0; o < count; o++)
                {
                    var shape = shapes + 2 + (2 * o);
                    shape[0] = rows;
                    shape[1] = _outputWidths[o];
                    var floats = rows * _outputWidths[o];
                    api.Check(api.CreateTensorWithDataAsOrtValue(memory, outData + offset, (nuint)(floats * sizeof(float)), shape, _outputIsVector[o] ? 1u : 2u, (int)OrtElementType.Float, &values[1 + o]),
                        "CreateTensorWithDataAsOrtValue (output)");
                    offset += floats;
                }
                api.Check(api.Run(_session.DangerousGetHandle(), 0, inNames, values, 1, outNames, (nuint)count, values + 1), "Run");
            }
        }
        finally
        {
            for (var i = 0; i <= count; i++)
            {
                if (values[i] != 0) api.ReleaseValue(values[i]);
            }
            if (added) _session.DangerousRelease();
        }
    }

    /// <summary>
    /// For the binding-overhead benchmark: a loop body that calls the native <c>Run</c> on tensors created once over
    /// pinned arrays, i.e. the cost of ORT alone, without our per-call tensor wrapping and checks. Dispose releases them.
    /// </summary>
    internal NativeRunLoop CreateNativeRunLoop(float[] input, int rows, int columns, float[] output) => new(this, input, rows, columns, output);

    internal sealed class NativeRunLoop : IDisposable
    {
        private readonly OnnxModel _model;
        private readonly System.Runtime.InteropServices.GCHandle _in;
        private readonly System.Runtime.InteropServices.GCHandle _out;
        private readonly nint[] _values;

        public NativeRunLoop(OnnxModel model, float[] input, int rows, int columns, float[] output)
        {
            _model = model;
            var api = model._runtime.Api;
            var memory = model._runtime.CpuMemory.DangerousGetHandle();
            _in = System.Runtime.InteropServices.GCHandle.Alloc(input, System.Runtime.InteropServices.GCHandleType.Pinned);
            _out = System.Runtime.InteropServices.GCHandle.Alloc(output, System.Runtime.InteropServices.GCHandleType.Pinned);
            _values = new nint[1 + model._outputNames.Length];
            var shape = stackalloc long[2] { rows, columns };
            fixed (nint* v = _values)
            {
                api.Check(api.CreateTensorWithDataAsOrtValue(memory, (void*)_in.AddrOfPinnedObject(), (nuint)(rows * columns * 4), shape, 2, (int)OrtElementType.Float, &v[0]), "input");
                var offset = 0;
                for (var o = 0; o < model._outputNames.Length; o++)
                {
                    shape[1] = model._outputWidths[o];
                    api.Check(api.CreateTensorWithDataAsOrtValue(memory, (float*)_out.AddrOfPinnedObject() + offset, (nuint)(rows * model._outputWidths[o] * 4), shape, 2, (int)OrtElementType.Float, &v[1 + o]), "output");
                    offset += rows * model._outputWidths[o];
                }
            }
        }

        public void Run()
        {
            var api = _model._runtime.Api;
            fixed (nint* v = _values)
            fixed (nint* inNames = _model._inputNames)
            fixed (nint* outNames = _model._outputNames)
            {
                api.Check(api.Run(_model._session.DangerousGetHandle(), 0, inNames, v, 1, outNames, (nuint)_model._outputNames.Length, v + 1), "Run");
            }
        }

        public void Dispose()
        {
            foreach (var v in _values) _model._runtime.Api.ReleaseValue(v);
            _in.Free();
            _out.Free();
        }
    }

    /// <summary>Runs on one float [N, F] input and lets ORT allocate the outputs (any shapes); float and int64 outputs are returned as floats, others skipped.</summary>
    public IReadOnlyList<OnnxOutput> RunAllocated(ReadOnlySpan<float> input, int rows, int columns)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Inputs.Count != 1) throw new InvalidOperationException($"The model has {Inputs.Count} inputs; runs over one [N, F] input only.");
        var api = _runtime.Api;
        var count = _outputNames.Length;
        var values = new nint[1 + count];
        var results = new List<OnnxOutput>(count);
        var shape = stackalloc long[2] { rows, columns };
        var added = false;
        _session.DangerousAddRef(ref added);
        try
        {
            fixed (float* inData = input)
            fixed (nint* v = values)
            fixed (nint* inNames = _inputNames)
            fixed (nint* outNames = _outputNames)
            {
                api.Check(api.CreateTensorWithDataAsOrtValue(_runtime.CpuMemory.DangerousGetHandle(), inData, (nuint)(rows * columns * sizeof(float)), shape, 2, (int)OrtElementType.Float, &v[0]), "CreateTensorWithDataAsOrtValue (input)");
                api.Check(api.Run(_session.DangerousGetHandle(), 0, inNames, v, 1, outNames, (nuint)count, v + 1), "Run");
            }
            for (var o = 0; o < count; o++)
            {
                var value = values[1 + o];
                int isTensor;
                api.Check(api.IsTensor(value, &isTensor), "IsTensor");
                if (isTensor == 0) continue;
                nint info;
                api.Check(api.GetTensorTypeAndShape(value, &info), "GetTensorTypeAndShape");
                int type;
                nuint rank, elements;
                long[] dims;
                try
                {
                    api.Check(api.GetTensorElementType(info, &type), "GetTensorElementType");
                    api.Check(api.GetDimensionsCount(info, &rank), "GetDimensionsCount");
                    dims = new long[(int)rank];
                    fixed (long* d = dims) api.Check(api.GetDimensions(info, d, rank), "GetDimensions");
                    api.Check(api.GetTensorShapeElementCount(info, &elements), "GetTensorShapeElementCount");
                }
                finally
                {
                    api.ReleaseTensorTypeAndShapeInfo(info);
                }
                void* data;
                api.Check(api.GetTensorMutableData(value, &data), "GetTensorMutableData");
                var floats = new float[(int)elements];
                switch ((OrtElementType)type)
                {
                    case OrtElementType.Float:
                        new ReadOnlySpan<float>(data, floats.Length).CopyTo(floats);
                        break;
                    case OrtElementType.Int64:
                        var longs = new ReadOnlySpan<long>(data, floats.Length);
                        for (var i = 0; i < floats.Length; i++) floats[i] = longs[i];
                        break;
                    case OrtElementType.Double:
                        var doubles = new ReadOnlySpan<double>(data, floats.Length);
                        for (var i = 0; i < floats.Length; i++) floats[i] = (float)doubles[i];
                        break;
                    default:
                        continue;
                }
                results.Add(new OnnxOutput(Outputs[o].Name, (OrtElementType)type, dims, floats));
            }
            return results;
        }
        finally
        {
            foreach (var value in values)
            {
                if (value != 0) api.ReleaseValue(value);
            }
            if (added) _session.DangerousRelease();
        }
    }

    /// <summary>A NUL-terminated UTF-8 copy on the pinned object heap: its address is stable and it lives as long as the model.</summary>
    private nint PinnedUtf8(string text)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        var buffer = GC.AllocateArray<byte>(bytes.Length + 1, pinned: true);
        bytes.CopyTo(buffer, 0);
        _nameBuffers.Add(buffer);
        return Marshal.UnsafeAddrOfPinnedArrayElement(buffer, 0);
    }

    private static int FixedWidth(IReadOnlyList<long> shape) => shape.Count switch
    {
        1 => 1,
        2 when shape[1] > 0 => (int)shape[1],
        _ => -1,
    };

    private static OnnxTensorInfo[] ReadInfos(OrtApi api, OrtSessionHandle session, bool input)
    {
        var s = session.DangerousGetHandle();
        nuint count;
        api.Check(input ? api.SessionGetInputCount(s, &count) : api.SessionGetOutputCount(s, &count), input ? "SessionGetInputCount" : "SessionGetOutputCount");
        nint allocator;
        api.Check(api.GetAllocatorWithDefaultOptions(&allocator), "GetAllocatorWithDefaultOptions");
        var infos = new OnnxTensorInfo[(int)count];
        for (nuint i = 0; i < count; i++)
        {
            byte* name;
            api.Check(input ? api.SessionGetInputName(s, i, allocator, &name) : api.SessionGetOutputName(s, i, allocator, &name), "SessionGet*Name");
            var text = api.TakeString(allocator, name);
            nint typeInfo;
            api.Check(input ? api.SessionGetInputTypeInfo(s, i, &typeInfo) : api.SessionGetOutputTypeInfo(s, i, &typeInfo), "SessionGet*TypeInfo");
            try
            {
                int onnxType;
                api.Check(api.GetOnnxTypeFromTypeInfo(typeInfo, &onnxType), "GetOnnxTypeFromTypeInfo");
                if (onnxType != 1 /* ONNX_TYPE_TENSOR */)
                {
                    infos[(int)i] = new OnnxTensorInfo(text, onnxType switch { 2 => "sequence", 3 => "map", _ => "other" }, []);
                    continue;
                }
                nint tensorInfo;
                api.Check(api.CastTypeInfoToTensorInfo(typeInfo, &tensorInfo), "CastTypeInfoToTensorInfo");
                int element;
                api.Check(api.GetTensorElementType(tensorInfo, &element), "GetTensorElementType");
                nuint rank;
                api.Check(api.GetDimensionsCount(tensorInfo, &rank), "GetDimensionsCount");
                var dims = new long[(int)rank];
                fixed (long* d = dims) api.Check(api.GetDimensions(tensorInfo, d, rank), "GetDimensions");
                infos[(int)i] = new OnnxTensorInfo(text, ((OrtElementType)element).ToString().ToLowerInvariant(), dims);
            }
            finally
            {
                api.ReleaseTypeInfo(typeInfo);
            }
        }
        return infos;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        // The native session is released when the last run in flight drops its reference (SafeHandle counting).
        _session.Dispose();
    }
}
