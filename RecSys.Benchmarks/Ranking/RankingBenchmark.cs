using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RecSys.Features;
using RecSys.Ranking;
using RecSys.Ranking.Batching;
using RecSys.Ranking.Onnx;
using RecSys.Ranking.TwoStage;

namespace RecSys.Benchmarks.Ranking;

/// <summary>
/// <c>ranking [--seconds 2] [--threads 1] [--rows 200] [--batches cores] [--max-batch 4096]</c>: the ranker's figures on the real ONNX Runtime.
/// 1. rows/s of an MLP 128-256-128 over 100 features (three heads) at batch 1, 64, 512, 4096;
/// 2. the binding's per-call overhead: our Run (tensors wrapped per call, statuses checked) against the native Run on
///    tensors created once, on a tiny model at batch 1 where overhead dominates;
/// 3. the batcher against unbatched calls: 32 concurrent callers scoring 200 rows each with the same MLP;
/// 4. the two-stage ranking stage (pre-ranker over 500 candidates keeping 200, MLP ranker over the 29-feature schema)
///    under 32 concurrent requests: latency percentiles.
/// </summary>
internal static class RankingBenchmark
{
    private const int Features = 100;

    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = Arg(args, "--seconds", 2.0);
        var threads = (int)Arg(args, "--threads", 1);
        var runtime = OnnxRuntime.Load(null);
        var settings = new OnnxSessionSettings("cpu", threads, "all");
        Console.WriteLine($"ONNX Runtime {runtime.Version} ({runtime.LibraryPath}), intra-op threads {threads}, {Environment.ProcessorCount} cores, {seconds} s per figure");

        var mlp = RankerNetwork.Random(Features, 0, [128, 256, 128], [("p_click", HeadActivation.Sigmoid), ("p_like", HeadActivation.Sigmoid), ("dwell", HeadActivation.Identity)], seed: 1);
        using var model = OnnxModel.Load(runtime, OnnxWriter.Write(mlp), settings);

        Console.WriteLine();
        Console.WriteLine("1. MLP 100 -> 128 -> 256 -> 128 -> 3 heads");
        Console.WriteLine($"{"batch",8} {"rows/s",14} {"us/call",10}");
        foreach (var batch in new[] { 1, 64, 512, 4096 })
        {
            var input = Rows(batch, Features, 2);
            var output = new float[batch * 3];
            var (calls, elapsed) = Measure(seconds, () => model.Run(input, batch, Features, output));
            Console.WriteLine($"{batch,8} {calls * batch / elapsed,14:N0} {elapsed / calls * 1e6,10:0.0}");
        }

        Console.WriteLine();
        Console.WriteLine("2. binding overhead per call (logistic regression over 100 features, batch 1)");
        using (var tiny = OnnxModel.Load(runtime, OnnxWriter.Write(RankerNetwork.Random(Features, 0, [], [("p", HeadActivation.Sigmoid)], 3)), settings))
        {
            var input = Rows(1, Features, 4);
            var output = new float[1];
            using var native = tiny.CreateNativeRunLoop(input, 1, Features, output);
            for (var round = 0; round < 2; round++)
            {
                var (nativeCalls, nativeTime) = Measure(seconds, native.Run);
                var (oursCalls, oursTime) = Measure(seconds, () => tiny.Run(input, 1, Features, output));
                var nativeUs = nativeTime / nativeCalls * 1e6;
                var oursUs = oursTime / oursCalls * 1e6;
                Console.WriteLine($"round {round + 1}: native Run {nativeUs:0.00} us, our Run {oursUs:0.00} us, overhead {oursUs - nativeUs:0.00} us ({(oursUs / nativeUs) - 1:P0})");
            }
        }

        Console.WriteLine();
        var requestRows = (int)Arg(args, "--rows", 200);
        Console.WriteLine($"3. 32 concurrent callers x {requestRows} rows, same MLP");
        var unbatched = await Concurrent(32, requestRows, seconds, (rows, output) => { model.Run(rows, requestRows, Features, output); return ValueTask.CompletedTask; });
        using var batcher = new ScoringBatcher(model, new BatcherSettings((int)Arg(args, "--max-batch", 4096), TimeSpan.FromMilliseconds(0.5), 1024, (int)Arg(args, "--batches", Environment.ProcessorCount)), NullLogger.Instance, "bench");
        var batched = await Concurrent(32, requestRows, seconds, (rows, output) => batcher.ScoreAsync(rows, requestRows, output, default));
        var (batches, batchRows) = batcher.Counters;
        Console.WriteLine($"unbatched: {unbatched.RowsPerSecond,12:N0} rows/s  p50 {unbatched.P50,6:0.00} ms  p99 {unbatched.P99,6:0.00} ms");
        Console.WriteLine($"batched:   {batched.RowsPerSecond,12:N0} rows/s  p50 {batched.P50,6:0.00} ms  p99 {batched.P99,6:0.00} ms  ({batchRows / (double)Math.Max(1, batches):0} rows per batch)");
        Console.WriteLine($"batcher / unbatched throughput: {batched.RowsPerSecond / unbatched.RowsPerSecond:0.00}x");

        Console.WriteLine();
        Console.WriteLine("4. two-stage ranking stage, 500 candidates -> pre-ranker keeps 200 -> MLP ranker (29 features), 32 concurrent requests");
        var folder = Directory.CreateTempSubdirectory("recsys-bench-models-").FullName;
        try
        {
            var names = FeatureSchema.Default.Names.ToList();
            var pre = RankerNetwork.Random(names.Count, 0, [], [("score", HeadActivation.Sigmoid)], 5);
            var main = RankerNetwork.Random(names.Count, 0, [128, 256, 128], [("p_click", HeadActivation.Sigmoid), ("p_like", HeadActivation.Sigmoid), ("dwell", HeadActivation.Identity)], 6);
            await File.WriteAllBytesAsync(Path.Combine(folder, "pre.onnx"), OnnxWriter.Write(pre));
            await File.WriteAllBytesAsync(Path.Combine(folder, "ranker.onnx"), OnnxWriter.Write(main));
            var manifest = new ModelManifest("bench", names, new PreRankerManifest("pre.onnx"), new RankerManifest("ranker.onnx", new Dictionary<string, double> { ["p_click"] = 1, ["p_like"] = 0.5, ["dwell"] = 0.01 }));
            await File.WriteAllTextAsync(Path.Combine(folder, "manifest.json"), JsonSerializer.Serialize(manifest, JsonSerializerOptions.Web));
            var options = Options.Create(new RankingOptions { ModelsDirectory = folder, ExecutionProvider = "cpu", IntraOpThreads = threads });
            using var store = new ModelStore(options, NullLoggerFactory.Instance);
            var ranker = new TwoStageRanker(store, options);
            var stage = await Concurrent(32, 500, seconds, async (rows, output) =>
                await ranker.ScoreAsync(new FeatureMatrix(rows, 500, ranker.Schema!), output, default), names.Count);
            Console.WriteLine($"requests/s {stage.RowsPerSecond / 500,8:N0}  p50 {stage.P50:0.00} ms  p99 {stage.P99:0.00} ms  max {stage.Max:0.00} ms");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
        return 0;
    }

    private sealed record ConcurrentResult(double RowsPerSecond, double P50, double P99, double Max);

    /// <summary>Callers each loop: score their rows, record the latency, until the time is up.</summary>
    private static async Task<ConcurrentResult> Concurrent(int callers, int rows, double seconds, Func<float[], float[], ValueTask> score, int width = Features)
    {
        var latencies = new List<double>[callers];
        var stop = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        var warm = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, callers).Select(c => Task.Run(async () =>
        {
            var input = Rows(rows, width, c);
            var output = new float[rows * 3];
            var list = latencies[c] = new List<double>(4096);
            while (Stopwatch.GetTimestamp() < stop)
            {
                var t = Stopwatch.GetTimestamp();
                await score(input, output);
                list.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }
        })).ToArray();
        await Task.WhenAll(tasks);
        var elapsed = warm.Elapsed.TotalSeconds;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        return new ConcurrentResult(all.Length * rows / elapsed, all[all.Length / 2], all[(int)(all.Length * 0.99)], all[^1]);
    }

    private static (long Calls, double Seconds) Measure(double seconds, Action call)
    {
        for (var i = 0; i < 20; i++) call();
        var watch = Stopwatch.StartNew();
        long calls = 0;
        while (watch.Elapsed.TotalSeconds < seconds)
        {
            for (var i = 0; i < 10; i++) call();
            calls += 10;
        }
        return (calls, watch.Elapsed.TotalSeconds);
    }

    private static float[] Rows(int rows, int width, int seed)
    {
        var random = new Random(seed);
        var data = new float[rows * width];
        for (var i = 0; i < data.Length; i++) data[i] = (float)random.NextDouble();
        return data;
    }

    private static double Arg(string[] args, string name, double fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? double.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
    }
}
