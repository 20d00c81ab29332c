using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using RecSys.Benchmarks.Retrieval;
using RecSys.Retrieval;
using RecSys.Retrieval.Exact;
using RecSys.Retrieval.Hnsw;

namespace RecSys.Benchmarks.Macro;

/// <summary>
/// <c>ann --base b.fvecs --query q.fvecs --groundtruth gt.ivecs [--k 10] [--ef 16,32,64,128] [--M 16]
/// [--ef-construction 200] [--threads 1,2] [--metric ip|l2] [--peers hnswlib,faiss|none] [--json out.json] [--save f] [--load f]
/// [--peer-cache dir]</c>:
/// builds our HNSW index (once per thread count, the last one is searched; or loads a saved one), then per ef prints
/// recall@k against the ground truth, single-thread QPS, p50/p99 latency, beside the same run of the peers.
/// <c>ann synthetic --out dir [--count 200000] [--dims 64] [--queries 1000] [--clusters 1000] [--spread 0.25] [--gt-k 100] [--seed 1]</c>
/// writes a clustered, normalised set and its exact inner-product ground truth as TEXMEX files.
/// </summary>
internal static class AnnBenchmark
{
    /// <summary>Each ef is timed over whole passes of the query set until at least this long.</summary>
    private const double MinimumTimedSeconds = 1.0;

    private sealed record Row(int Ef, double Recall, double Qps, double P50, double P99);

    private sealed record RunResult(string Name, Dictionary<int, double> BuildSeconds, long MemoryBytes, List<Row> Rows);

    public static int Run(string[] args)
    {
        if (args.FirstOrDefault() == "synthetic") return Synthetic(args[1..]);
        var basePath = Required(args, "--base");
        var queryPath = Required(args, "--query");
        var truthPath = Required(args, "--groundtruth");
        var k = Int(args, "--k", 10);
        var efs = Ints(args, "--ef", "16,32,64,128");
        var m = Int(args, "--M", 16);
        var efConstruction = Int(args, "--ef-construction", 200);
        var threadCounts = Ints(args, "--threads", "1");
        var metricName = Text(args, "--metric", "ip");
        var metric = metricName switch { "ip" => HnswMetric.InnerProduct, "l2" => HnswMetric.L2, "cosine" => HnswMetric.Cosine, _ => throw new ArgumentException($"--metric {metricName}: use ip, l2 or cosine.") };
        var peers = Text(args, "--peers", "hnswlib,faiss").Split(',', StringSplitOptions.RemoveEmptyEntries);
        var jsonPath = Text(args, "--json", "");

        var data = VecsFiles.ReadFvecs(basePath, out var dims, out var count);
        var queries = VecsFiles.ReadFvecs(queryPath, out var queryDims, out var queryCount);
        var truth = VecsFiles.ReadIvecs(truthPath, out var truthK, out var truthCount);
        if (queryDims != dims || truthCount != queryCount) throw new InvalidDataException("base, query and ground-truth files do not match.");
        if (truthK < k) throw new ArgumentException($"--k {k} exceeds the ground truth's {truthK} neighbours.");
        Console.WriteLine($"ann: {count:N0} x {dims} base, {queryCount:N0} queries, k={k}, M={m}, efConstruction={efConstruction}, metric {metricName}, {Environment.ProcessorCount} cores");

        var results = new List<RunResult> { RunOurs(args, data, dims, count, queries, queryCount, truth, truthK, k, efs, m, efConstruction, threadCounts, metric) };
        var peerCache = Text(args, "--peer-cache", "");
        foreach (var peer in peers.Where(p => p != "none"))
        {
            var result = RunPeer(peer, basePath, queryPath, truthPath, metricName, m, efConstruction, threadCounts, k, efs, peerCache);
            if (result is not null) results.Add(result);
        }
        Print(results, count, dims, m);
        if (jsonPath.Length > 0)
        {
            File.WriteAllText(jsonPath, JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));
        }
        return 0;
    }

    private static RunResult RunOurs(string[] args, float[] data, int dims, int count, float[] queries, int queryCount, int[] truth, int truthK,
        int k, int[] efs, int m, int efConstruction, int[] threadCounts, HnswMetric metric)
    {
        var builds = new Dictionary<int, double>();
        HnswIndex? index = null;
        var loadPath = Text(args, "--load", "");
        if (loadPath.Length > 0)
        {
            var watch = Stopwatch.StartNew();
            index = HnswPersistence.Load(loadPath);
            Console.WriteLine($"ours: loaded {loadPath} in {watch.Elapsed.TotalSeconds:0.00} s");
        }
        else
        {
            foreach (var threads in threadCounts)
            {
                index = null;
                GC.Collect();
                var watch = Stopwatch.StartNew();
                index = HnswIndex.Build(data, dims, metric, new HnswParameters(m, efConstruction), threads);
                builds[threads] = watch.Elapsed.TotalSeconds;
                Console.WriteLine($"ours: built on {threads} thread(s) in {builds[threads]:0.00} s");
            }
        }
        var savePath = Text(args, "--save", "");
        if (savePath.Length > 0)
        {
            var watch = Stopwatch.StartNew();
            HnswPersistence.Save(index!, savePath);
            Console.WriteLine($"ours: saved {savePath} ({new FileInfo(savePath).Length / 1048576.0:0} MiB) in {watch.Elapsed.TotalSeconds:0.00} s");
        }

        var rows = new List<Row>();
        var ids = new int[k];
        var scores = new float[k];
        var latencies = new double[queryCount];
        // Warm-up: every query once at every ef, so tiered JIT has produced its final code before anything is timed.
        foreach (var ef in efs)
        {
            for (var q = 0; q < queryCount; q++) index!.Search(queries.AsSpan(q * dims, dims), k, ef, ids, scores);
        }
        Thread.Sleep(500);
        foreach (var ef in efs)
        {
            // Recall from one pass; timings from as many passes as fill a second, so one preemption of this process
            // on a busy machine does not decide the QPS of a 20 ms run.
            long hits = 0;
            for (var q = 0; q < queryCount; q++)
            {
                var found = index!.Search(queries.AsSpan(q * dims, dims), k, ef, ids, scores);
                var expected = truth.AsSpan(q * truthK, k);
                for (var i = 0; i < found; i++) if (expected.Contains(ids[i])) hits++;
            }
            var timed = new List<double>(queryCount);
            var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            var started = Stopwatch.GetTimestamp();
            do
            {
                for (var q = 0; q < queryCount; q++)
                {
                    var t0 = Stopwatch.GetTimestamp();
                    index!.Search(queries.AsSpan(q * dims, dims), k, ef, ids, scores);
                    latencies[q] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                }
                timed.AddRange(latencies);
            }
            while (Stopwatch.GetElapsedTime(started).TotalSeconds < MinimumTimedSeconds);
            var total = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            var sorted = timed.ToArray();
            Array.Sort(sorted);
            rows.Add(new Row(ef, hits / (double)(queryCount * k), sorted.Length / total, At(sorted, 0.5), At(sorted, 0.99)));
            Console.WriteLine($"ours: ef {ef}: {sorted.Length:N0} timed searches, {allocated / (double)sorted.Length:0.0} bytes allocated per search (including the latency list)");
        }
        return new RunResult("ours", builds, index!.MemoryBytes, rows);
    }

    private static RunResult? RunPeer(string peer, string basePath, string queryPath, string truthPath, string metric, int m, int efConstruction, int[] threadCounts, int k, int[] efs, string peerCache)
    {
        string executable;
        var prefix = new List<string>();
        var peersDirectory = Path.Combine(AppContext.BaseDirectory, "Peers");
        switch (peer)
        {
            case "hnswlib":
                if (!File.Exists("/usr/include/hnswlib/hnswlib.h"))
                {
                    Console.WriteLine("hnswlib: skipped, /usr/include/hnswlib missing (run scripts/bench-setup)");
                    return null;
                }
                executable = Path.Combine(Path.GetTempPath(), "recsys-hnswlib-peer");
                var source = Path.Combine(peersDirectory, "hnswlib_peer.cpp");
                if (!File.Exists(executable) || File.GetLastWriteTimeUtc(executable) < File.GetLastWriteTimeUtc(source))
                {
                    var (code, output) = Exec("g++", ["-O3", "-march=native", "-std=c++17", "-pthread", source, "-o", executable]);
                    if (code != 0) throw new InvalidOperationException($"g++ failed on {source}:\n{output}");
                }
                break;
            case "faiss":
                executable = "/usr/bin/python3";
                prefix.Add(Path.Combine(peersDirectory, "faiss_peer.py"));
                break;
            default:
                throw new ArgumentException($"--peers: unknown peer '{peer}' (hnswlib, faiss).");
        }

        var builds = new Dictionary<int, double>();
        long memory = 0;
        List<Row> rows = [];
        for (var t = 0; t < threadCounts.Length; t++)
        {
            var last = t == threadCounts.Length - 1;
            var arguments = new List<string>(prefix)
            {
                basePath, queryPath, truthPath, metric == "l2" ? "l2" : "ip", m.ToString(CultureInfo.InvariantCulture),
                efConstruction.ToString(CultureInfo.InvariantCulture), threadCounts[t].ToString(CultureInfo.InvariantCulture),
                k.ToString(CultureInfo.InvariantCulture), last ? string.Join(',', efs) : "0",
            };
            // hnswlib can keep its built index (--peer-cache dir): a later run with --load for ours then rebuilds neither.
            if (peer == "hnswlib" && peerCache.Length > 0 && last)
            {
                arguments.Add(Path.Combine(peerCache, $"hnswlib-M{m}-ef{efConstruction}-{Path.GetFileNameWithoutExtension(basePath)}.bin"));
            }
            var (code, output) = Exec(executable, arguments);
            if (code != 0)
            {
                Console.WriteLine($"{peer}: failed ({code}), skipped: {output.Trim()}");
                return null;
            }
            foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!line.StartsWith('{')) continue;
                using var json = JsonDocument.Parse(line);
                var root = json.RootElement;
                if (root.TryGetProperty("build", out var build))
                {
                    memory = root.GetProperty("memory").GetInt64();
                    if (build.GetDouble() <= 0)
                    {
                        Console.WriteLine($"{peer}: loaded its cached index (no build time)");
                        continue;
                    }
                    builds[threadCounts[t]] = build.GetDouble();
                    Console.WriteLine($"{peer}: built on {threadCounts[t]} thread(s) in {build.GetDouble():0.00} s");
                }
                else if (last)
                {
                    rows.Add(new Row(root.GetProperty("ef").GetInt32(), root.GetProperty("recall").GetDouble(), root.GetProperty("qps").GetDouble(),
                        root.GetProperty("p50").GetDouble(), root.GetProperty("p99").GetDouble()));
                }
            }
        }
        return new RunResult(peer, builds, memory, rows);
    }

    private static void Print(List<RunResult> results, int count, int dims, int m)
    {
        var ours = results[0];
        var header = new StringBuilder($"{"ef",5} | {"recall",7} {"QPS",9} {"p50 ms",8} {"p99 ms",8}");
        foreach (var peer in results.Skip(1)) header.Append(CultureInfo.InvariantCulture, $" | {peer.Name + " recall",14} {"QPS",9} {"p50 ms",8} {"p99 ms",8} {"QPS ours/" + peer.Name,16}");
        Console.WriteLine();
        Console.WriteLine(header.ToString());
        foreach (var row in ours.Rows)
        {
            var line = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"{row.Ef,5} | {row.Recall,7:0.0000} {row.Qps,9:N0} {row.P50,8:0.000} {row.P99,8:0.000}"));
            foreach (var peer in results.Skip(1))
            {
                var other = peer.Rows.FirstOrDefault(r => r.Ef == row.Ef);
                line.Append(other is null
                    ? " | (no row)"
                    : string.Create(CultureInfo.InvariantCulture, $" | {other.Recall,14:0.0000} {other.Qps,9:N0} {other.P50,8:0.000} {other.P99,8:0.000} {row.Qps / other.Qps,16:0.00}"));
            }
            Console.WriteLine(line.ToString());
        }
        Console.WriteLine();
        var raw = 4L * count * dims;
        var links = 4L * count * ((2 * m) + 1);
        Console.WriteLine($"raw vectors {raw / 1048576.0:0.0} MiB, level-0 links {links / 1048576.0:0.0} MiB");
        foreach (var result in results)
        {
            var builds = string.Join(", ", result.BuildSeconds.Select(b => $"{b.Value:0.00} s on {b.Key} thread(s)"));
            var ratio = result == ours ? "" : " | build ours/" + result.Name + ": " + string.Join(", ", result.BuildSeconds.Where(b => ours.BuildSeconds.ContainsKey(b.Key)).Select(b => $"{ours.BuildSeconds[b.Key] / b.Value:0.00} ({b.Key}t)"));
            Console.WriteLine($"{result.Name,-8} build {builds}; memory {result.MemoryBytes / 1048576.0:0.0} MiB ({result.MemoryBytes / (double)(raw + links):0.00}x vectors+links){ratio}");
        }
    }

    private static int Synthetic(string[] args)
    {
        var outDirectory = Required(args, "--out");
        var count = Int(args, "--count", 200_000);
        var dims = Int(args, "--dims", 64);
        var queryCount = Int(args, "--queries", 1000);
        var clusters = Int(args, "--clusters", 1000);
        var spread = double.Parse(Text(args, "--spread", "0.25"), CultureInfo.InvariantCulture);
        var truthK = Int(args, "--gt-k", 100);
        var seed = Int(args, "--seed", 1);
        Directory.CreateDirectory(outDirectory);
        var watch = Stopwatch.StartNew();
        var rng = new Random(seed);
        var centres = new float[clusters * dims];
        for (var i = 0; i < centres.Length; i++) centres[i] = (float)Gaussian(rng);
        float[] Generate(int n)
        {
            var data = new float[n * dims];
            for (var i = 0; i < n; i++)
            {
                var c = rng.Next(clusters);
                var row = data.AsSpan(i * dims, dims);
                for (var d = 0; d < dims; d++) row[d] = centres[(c * dims) + d] + (float)(spread * Gaussian(rng));
                Distances.Normalize(row);
            }
            return data;
        }
        var data = Generate(count);
        var queries = Generate(queryCount);
        var embeddings = new ItemEmbeddings("synthetic", dims, data);
        var truth = new int[queryCount * truthK];
        Parallel.For(0, queryCount, q =>
        {
            ExactSearch.Search(embeddings, queries.AsSpan(q * dims, dims), null, truth.AsSpan(q * truthK, truthK), new float[truthK]);
        });
        VecsFiles.Write(Path.Combine(outDirectory, "base.fvecs"), data.AsSpan(), dims);
        VecsFiles.Write(Path.Combine(outDirectory, "query.fvecs"), queries.AsSpan(), dims);
        VecsFiles.Write(Path.Combine(outDirectory, "groundtruth.ivecs"), truth.AsSpan(), truthK);
        Console.WriteLine($"synthetic: {count:N0} x {dims} (clusters {clusters}, spread {spread}), {queryCount:N0} queries, exact inner-product top-{truthK}, in {outDirectory} ({watch.Elapsed.TotalSeconds:0.0} s)");
        return 0;
    }

    private static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private static double At(double[] sorted, double q) => sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))];

    private static (int Code, string Output) Exec(string file, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }

    private static string Required(string[] args, string name) => Text(args, name, "") is { Length: > 0 } value ? value : throw new ArgumentException($"{name} is required.");

    private static string Text(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    private static int Int(string[] args, string name, int fallback) => int.Parse(Text(args, name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    private static int[] Ints(string[] args, string name, string fallback) =>
        Text(args, name, fallback).Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
}
