using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using RecSys.Demo;
using RecSys.Pipeline;

namespace RecSys.Benchmarks.Macro;

/// <summary>
/// <c>funnel [--requests 1000] [--items 100000] [--users 20000] [--warmup 100] [--explain]</c>: the in-process funnel on
/// the demo world, sequential requests for distinct users, median / p99 / max of each stage, and the bytes allocated per
/// request; <c>--explain</c> asks every request for explanations (to compare what they cost against requests without).
/// </summary>
internal static class FunnelBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var requests = Arg(args, "--requests", 1000);
        var warmup = Arg(args, "--warmup", 100);
        var explain = args.Contains("--explain");
        var demo = new DemoOptions { Items = Arg(args, "--items", 100_000), Users = Arg(args, "--users", 20_000) };

        var watch = Stopwatch.StartNew();
        var world = DemoWorldGenerator.Generate(demo);
        Console.WriteLine($"world: {world.Items.Count:N0} items, {world.Users.Count:N0} users, {world.Interactions.Length:N0} events, generated in {watch.Elapsed.TotalSeconds:0.0} s");

        await using var provider = await FunnelHost.CreateAsync(world);
        var pipeline = provider.GetRequiredService<RecommendationPipeline>();

        for (var i = 0; i < warmup; i++) await pipeline.RecommendAsync(new RecommendationRequest("warmup", world.Users[i % world.Users.Count].Id, 20), default);

        var timings = new List<StageTimings>(requests);
        var candidates = 0L;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        for (var i = 0; i < requests; i++)
        {
            var user = world.Users[(i * 7919) % world.Users.Count];
            var result = await pipeline.RecommendAsync(new RecommendationRequest($"r{i}", user.Id, 20, Explain: explain), default);
            timings.Add(result.Timings);
            candidates += result.CandidateCount;
        }
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

        Console.WriteLine($"{requests} requests, {candidates / (double)requests:0} candidates on average, ~{allocated / requests / 1024.0:0.0} KiB allocated per request (whole process){(explain ? ", explain=true" : ", explain off")}");
        Console.WriteLine($"{"stage",-12} {"median ms",10} {"p99 ms",10} {"max ms",10}");
        Print("userState", timings.Select(t => t.UserState));
        Print("candidates", timings.Select(t => t.Candidates));
        Print("features", timings.Select(t => t.Features));
        Print("ranking", timings.Select(t => t.Ranking));
        Print("reRanking", timings.Select(t => t.ReRanking));
        Print("total", timings.Select(t => t.Total));
        return 0;
    }

    private static void Print(string stage, IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        double At(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        Console.WriteLine($"{stage,-12} {At(0.5),10:0.000} {At(0.99),10:0.000} {sorted[^1],10:0.000}");
    }

    private static int Arg(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
