using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RecSys.Catalog;
using RecSys.Catalog.Memory;
using RecSys.Events;
using RecSys.Features;
using RecSys.Features.Redis;
using RecSys.Features.Redis.Resp;
using RecSys.Retrieval;
using RecSys.Training;
using RecSys.Training.Serving;

namespace RecSys.Benchmarks.Stores;

/// <summary>
/// <c>redis --redis 127.0.0.1:6379 [--seconds 5] [--workers 4]</c>: our client's pipelined GET throughput beside
/// <c>redis-benchmark -P 16 -t get</c> on the same server, then the 500-candidate feature fetch latency of the Redis store.
/// </summary>
public static partial class RedisBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        string Arg(string name, string fallback) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? fallback;
        var address = Arg("--redis", "127.0.0.1:6379");
        var seconds = double.Parse(Arg("--seconds", "5"), CultureInfo.InvariantCulture);
        var workers = int.Parse(Arg("--workers", "4"), CultureInfo.InvariantCulture);
        var endpoint = RedisEndpoint.Parse(address);
        await RedisOnlineStore.ClearAsync(address, "bench:", default); // a rerun starts from the same data
        await using var redis = new RedisClient(endpoint);
        await redis.SetAsync("bench:key", "xxx", null, default);

        // 1. Pipelined GETs: each worker keeps one batch of 16 GETs in flight, like redis-benchmark's -P 16 per client.
        long operations = 0;
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        var until = TimeSpan.FromSeconds(seconds);
        await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            using var batch = new RespBatch();
            for (var i = 0; i < 16; i++) batch.Command("GET"u8, 2).Arg("bench:key"u8);
            long done = 0;
            while (watch.Elapsed < until)
            {
                using var replies = await redis.ExecuteAsync(batch, default);
                done += replies.Count;
            }
            Interlocked.Add(ref operations, done);
        })));
        var ours = operations / watch.Elapsed.TotalSeconds;
        // CPU per GET is steadier than throughput on a shared machine: it counts only what this process spent.
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMicroseconds / operations;
        Console.WriteLine($"our client: {ours:N0} GET/s ({workers} concurrent batches of 16 on one connection, {seconds} s); client CPU {cpu:0.00} us per GET");

        var theirs = RedisBenchmarkGets(endpoint, workers);
        if (theirs > 0) Console.WriteLine($"redis-benchmark -P 16 -t get -c {workers}: {theirs:N0} GET/s; ours / theirs = {ours / theirs:0.00}");

        // 2. Feature fetch for 500 candidates against a store holding 100,000 items' counters.
        const int items = 100_000;
        var catalog = new InMemoryCatalog();
        catalog.Load(new CatalogSnapshot("bench", Enumerable.Range(0, items).Select(i => new Item(i, $"i_{i}", "t", 0, "c", 0, DateTimeOffset.UnixEpoch, 0, false, "us", "en", "")).ToList(),
            [new UserProfile(0, "u_0", 30, "us", "en", false, 10)], ["c"]));
        var store = new RedisFeatureStore(redis, Options.Create(new FeaturesOptions()), Options.Create(new OnlineStoreOptions { Online = "redis", RedisKeyPrefix = "bench:", RedisReadTimeoutMilliseconds = 10_000 /* measure, never fall back */ }),
            TimeProvider.System, catalog, NullLogger<RedisFeatureStore>.Instance);
        var random = new Random(1);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var events = new Interaction[400_000];
        for (var i = 0; i < events.Length; i++) events[i] = new Interaction(random.Next(20_000), random.Next(items), (EventType)random.Next(0, 7), now - random.Next(86_400), 10);
        await store.ApplyAsync(events, default);
        var candidates = new int[500];
        var stats = new ItemStats[500];
        var timings = new double[2000];
        for (var r = -200; r < timings.Length; r++)
        {
            for (var i = 0; i < candidates.Length; i++) candidates[i] = random.Next(items);
            var start = Stopwatch.GetTimestamp();
            await store.GetItemStatsAsync(candidates, stats, default);
            if (r >= 0) timings[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(timings);
        Console.WriteLine($"feature fetch, 500 candidates (one pipelined round trip: 500 HMGET + MULTI ZMSCORE HGET EXEC), {timings.Length} sequential calls: " +
            $"p50 {timings[timings.Length / 2]:0.000} ms, p99 {timings[(int)(timings.Length * 0.99)]:0.000} ms");

        // 3. Windowed counters of 500 candidates over the last 1 h and 24 h (2 or 25 hourly buckets, one HMGET of 2000
        // fields each, one round trip).
        var window = new ItemWindowCounts[500];
        foreach (var hours in new[] { 1, 24 })
        {
            for (var r = -100; r < 1000; r++)
            {
                for (var i = 0; i < candidates.Length; i++) candidates[i] = random.Next(items);
                var start = Stopwatch.GetTimestamp();
                await store.GetItemWindowCountsAsync(candidates, TimeSpan.FromHours(hours), window, default);
                if (r >= 0) timings[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
            Console.WriteLine($"window counts, 500 candidates over {hours} h (one round trip), 1000 sequential calls: {Percentiles(timings[..1000])}");
        }

        // 4. The stored query vector: user state with it (read in the same round trip) and without it, and the trained
        // ALS fold-in (k = 64) a request does when it is missing.
        const int factors = 64;
        var itemFactors = new float[items * factors];
        for (var i = 0; i < itemFactors.Length; i++) itemFactors[i] = (float)((random.NextDouble() - 0.5) * 0.2);
        var model = new AlsModel(new AlsOptions { Factors = factors }, 1, items, new float[factors], itemFactors);
        var embeddings = new ItemEmbeddings("bench-als", factors, itemFactors) { FoldIn = new AlsUserFoldIn(model, Enumerable.Range(0, items).ToArray(), 1f, 20) };
        await store.RefreshQueryVectorsAsync(Enumerable.Range(0, 1000).ToArray(), embeddings, default);
        var query = new float[factors];
        var withVector = new double[timings.Length];
        var withoutVector = new double[timings.Length];
        var foldIn = new double[timings.Length];
        for (var r = -200; r < timings.Length; r++)
        {
            var start = Stopwatch.GetTimestamp();
            var state = await store.GetUserStateAsync(random.Next(1000), default);
            var read = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (!state.TryGetQueryVector(embeddings, query)) throw new InvalidOperationException("The stored query vector was not served.");
            start = Stopwatch.GetTimestamp();
            var plain = await store.GetUserStateAsync(1000 + random.Next(19_000), default);
            var plainRead = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            start = Stopwatch.GetTimestamp();
            UserEmbedding.FoldIn(embeddings, plain.RecentItems, 20, query);
            var folded = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (r < 0) continue;
            withVector[r] = read;
            withoutVector[r] = plainRead;
            foldIn[r] = folded;
        }
        Console.WriteLine($"user state with the stored 64-d query vector (one round trip): {Percentiles(withVector)}");
        Console.WriteLine($"user state without it: {Percentiles(withoutVector)}; the ALS fold-in it saves (k = 64, up to 20 items): {Percentiles(foldIn)}");
        return 0;
    }

    private static string Percentiles(double[] timings)
    {
        var sorted = timings.ToArray();
        Array.Sort(sorted);
        return $"p50 {sorted[sorted.Length / 2]:0.000} ms, p99 {sorted[(int)(sorted.Length * 0.99)]:0.000} ms";
    }

    private static double RedisBenchmarkGets(RedisEndpoint endpoint, int clients)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("redis-benchmark",
                $"-h {endpoint.Host} -p {endpoint.Port} -P 16 -t get -c {clients} -n 2000000 -q") { RedirectStandardOutput = true })!;
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            var match = RequestsPerSecond().Match(output.Split('\r', '\n').LastOrDefault(l => l.StartsWith("GET", StringComparison.Ordinal)) ?? "");
            return match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Console.WriteLine("redis-benchmark not found (apt-get install redis-tools): no comparison");
            return 0;
        }
    }

    [GeneratedRegex(@"([0-9.]+) requests per second")]
    private static partial Regex RequestsPerSecond();
}
