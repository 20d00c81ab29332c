using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using RecSys.Ranking;
using RecSys.Ranking.Onnx;

namespace RecSys.Tests.Ranking;

/// <summary>The binding against the real ONNX Runtime library (fetched by scripts/setup, copied beside the test binaries).</summary>
public class OrtBindingTests
{
    internal static OnnxRuntime Runtime => OnnxRuntime.Load(null);

    internal static readonly OnnxSessionSettings Cpu = new("cpu", 1, "all");

    [Fact]
    public void Loads_the_pinned_library_and_reports_its_version_and_providers()
    {
        var runtime = Runtime;
        Assert.Equal(OnnxRuntime.PinnedVersion, runtime.Version);
        Assert.Contains("CPUExecutionProvider", runtime.AvailableProviders());
    }

    [Fact]
    public void An_OrtStatus_becomes_an_exception_with_ORTs_code_and_message()
    {
        var api = Runtime.Api;
        var status = api.MakeStatus(OrtErrorCode.InvalidArgument, "made by the test");
        var ex = Assert.Throws<OnnxRuntimeException>(() => api.Check(status, "Testing"));
        Assert.Equal(OrtErrorCode.InvalidArgument, ex.Code);
        Assert.Equal("Testing: made by the test", ex.Message);
        api.Check(0, "no error"); // success is no exception
    }

    [Fact]
    public void Reads_input_and_output_names_types_and_shapes()
    {
        var network = RankerNetwork.Random(7, 1, [5], [("p_click", HeadActivation.Sigmoid), ("dwell", HeadActivation.Identity)], seed: 3);
        using var model = OnnxModel.Load(Runtime, OnnxWriter.Write(network), Cpu);

        var input = Assert.Single(model.Inputs);
        Assert.Equal("features", input.Name);
        Assert.Equal("float", input.ElementType);
        Assert.Equal([-1L, 7L], input.Shape);
        Assert.Equal(7, model.InputWidth);
        Assert.Equal(["p_click", "dwell"], model.Outputs.Select(o => o.Name));
        Assert.All(model.Outputs, o => Assert.Equal([-1L, 1L], o.Shape));
        Assert.Equal(2, model.TotalOutputWidth);
        Assert.Equal("cpu", model.ExecutionProvider);
    }

    [Fact]
    public void Loads_from_a_file_and_from_bytes_alike()
    {
        var network = RankerNetwork.Random(6, 0, [5], [("p", HeadActivation.Sigmoid)], seed: 8);
        var bytes = OnnxWriter.Write(network);
        var path = Path.Combine(Path.GetTempPath(), $"recsys-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, bytes);
        try
        {
            using var fromFile = OnnxModel.Load(Runtime, path, Cpu);
            using var fromBytes = OnnxModel.Load(Runtime, bytes, Cpu);
            var rows = RandomRows(6, 4, 1);
            var a = new float[4];
            var b = new float[4];
            fromFile.Run(rows, 4, 6, a);
            fromBytes.Run(rows, 4, 6, b);
            Assert.Equal(a, b);
            Assert.Contains(a, v => v is > 0 and < 1);
        }
        finally
        {
            File.Delete(path);
        }
        var missing = Assert.Throws<OnnxRuntimeException>(() => OnnxModel.Load(Runtime, path, Cpu));
        Assert.Equal(OrtErrorCode.NoSuchFile, missing.Code);
    }

    [Fact]
    public void A_wrong_input_width_is_refused_with_ORTs_message()
    {
        using var model = OnnxModel.Load(Runtime, OnnxWriter.Write(RankerNetwork.Random(4, 0, [], [("s", HeadActivation.Sigmoid)], 1)), Cpu);
        var ex = Assert.Throws<OnnxRuntimeException>(() => model.Run(new float[15], 3, 5, new float[3]));
        Assert.Contains("Run", ex.Message, StringComparison.Ordinal);
        Assert.Contains("dimension", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_corrupt_model_is_refused_with_ORTs_message()
    {
        var bytes = OnnxWriter.Write(RankerNetwork.Random(4, 0, [3], [("s", HeadActivation.Sigmoid)], 1));
        var corrupt = bytes.AsSpan(0, bytes.Length / 2).ToArray();
        var ex = Assert.Throws<OnnxRuntimeException>(() => OnnxModel.Load(Runtime, corrupt, Cpu, name: "half.onnx"));
        Assert.Contains("half.onnx", ex.Message, StringComparison.Ordinal);
        Assert.NotEqual(OrtErrorCode.Ok, ex.Code);
    }

    [Fact]
    public void Runs_int64_inputs()
    {
        // A model whose input is int64 is refused by our float writer, so check the typed path against ORT's own type check.
        using var model = OnnxModel.Load(Runtime, OnnxWriter.Write(RankerNetwork.Random(2, 0, [], [("s", HeadActivation.Identity)], 1)), Cpu);
        var ex = Assert.Throws<OnnxRuntimeException>(() => model.Run(new long[4], 2, 2, new float[2]));
        Assert.Contains("tensor(int64)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Session_options_are_applied_for_every_thread_count_and_optimisation_level()
    {
        var network = RankerNetwork.Random(6, 1, [8], [("s", HeadActivation.Sigmoid)], 5);
        var bytes = OnnxWriter.Write(network);
        var rows = RandomRows(6, 10, 1);
        float[]? first = null;
        foreach (var level in new[] { "disable", "basic", "extended", "all" })
        {
            foreach (var threads in new[] { 1, 2 })
            {
                using var model = OnnxModel.Load(Runtime, bytes, new OnnxSessionSettings("cpu", threads, level));
                var output = new float[10];
                model.Run(rows, 10, 6, output);
                first ??= output;
                for (var i = 0; i < 10; i++) Assert.Equal(first[i], output[i], 5);
            }
        }
        Assert.Throws<ArgumentException>(() => OnnxModel.Load(Runtime, bytes, new OnnxSessionSettings("cpu", 1, "max")));
    }

    [Fact]
    public void Cuda_without_a_GPU_fails_clearly()
    {
        var bytes = OnnxWriter.Write(RankerNetwork.Random(3, 0, [], [("s", HeadActivation.Sigmoid)], 1));
        var ex = Assert.Throws<OnnxRuntimeException>(() => OnnxModel.Load(Runtime, bytes, new OnnxSessionSettings("cuda")));
        Assert.Equal(OrtErrorCode.EpFail, ex.Code);
        Assert.Contains("Ranking:ExecutionProvider is 'cuda'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("CUDA", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Auto_without_a_GPU_falls_back_to_cpu_with_one_log_line()
    {
        var bytes = OnnxWriter.Write(RankerNetwork.Random(3, 0, [], [("s", HeadActivation.Sigmoid)], 1));
        var logger = new ListLogger();
        using var model = OnnxModel.Load(Runtime, bytes, new OnnxSessionSettings("auto"), logger);
        Assert.Equal("cpu", model.ExecutionProvider);
        var line = Assert.Single(logger.Lines);
        Assert.StartsWith("Warning: CUDA execution provider unavailable, ranking on CPU", line, StringComparison.Ordinal);
        var output = new float[2];
        model.Run(new float[6], 2, 3, output);
        Assert.All(output, v => Assert.InRange(v, 0f, 1f));
    }

    [Fact]
    public void A_missing_library_gives_one_clear_error_saying_how_to_get_it()
    {
        var ex = Assert.Throws<OnnxRuntimeException>(() => OnnxRuntime.Load("/nonexistent/libonnxruntime.so.1"));
        Assert.Contains("Ranking:OnnxRuntimePath", ex.Message, StringComparison.Ordinal);
        Assert.Contains("npm package onnxruntime-node@1.30.0", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_library_that_is_not_onnx_runtime_is_refused()
    {
        var libc = "/lib/x86_64-linux-gnu/libm.so.6";
        Assert.True(File.Exists(libc));
        var ex = Assert.Throws<OnnxRuntimeException>(() => OnnxRuntime.Load(libc));
        Assert.Contains("is not ONNX Runtime: it exports no OrtGetApiBase", ex.Message, StringComparison.Ordinal);
    }

    internal static float[] RandomRows(int width, int rows, int seed)
    {
        var random = new Random(seed);
        var data = new float[width * rows];
        for (var i = 0; i < data.Length; i++) data[i] = (float)((random.NextDouble() * 2) - 1);
        return data;
    }

    internal sealed class ListLogger : ILogger
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Lines) Lines.Add($"{logLevel}: {formatter(state, exception)}");
        }
    }
}
