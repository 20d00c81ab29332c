using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using Microsoft.Extensions.DependencyInjection;
using RecSys.Catalog;
using RecSys.Demo;
using RecSys.Pipeline;
using RecSys.ReRanking;

namespace RecSys.Benchmarks.ReRanking;

/// <summary>
/// <c>rerank [--calls 20000] [--items 20000] [--users 2000] [--lists 1000]</c>:
/// (1) per-call latency of the shipped rule chain (window 50, 600 candidates, 20 picked): median, p99, max, bytes allocated;
/// (2) on a demo world, through the whole funnel, each chain as an experiment variant: intra-list diversity (mean pairwise
/// 1 - cosine of the served items' vectors), catalog coverage (distinct items served / catalog), and NDCG@10 against the
/// world's hidden preference model (gain = the generator's click probability; ideal = the best 10 of the whole catalog).
/// </summary>
internal static class ReRankingBenchmark
{
    private static readonly (string Name, List<RuleOptions> Rules)[] Chains =
    [
        ("caps", Base()),
        ("caps+mmr0.8", [.. Base(), new() { Type = "mmr", Lambda = 0.8 }]),
        ("caps+mmr0.5", [.. Base(), new() { Type = "mmr", Lambda = 0.5 }]),
        ("caps+explore2", [.. Base(), new() { Type = "explore", Slots = 2, Positions = [5, 10], MaxImpressions = 100, FreshHours = 48 }]),
        ("shipped", RuleChainBenchmarks.ShippedRules()),
    ];

    private static List<RuleOptions> Base() => [new() { Type = "context", Weight = 0.5, LocaleWeight = 0.5 }, new() { Type = "safety", Weight = 0.3 }, new() { Type = "seen" }, new() { Type = "categoryCap", Max = 3 }];

    public static async Task<int> RunAsync(string[] args)
    {
        Latency(Arg(args, "--calls", 20_000));
        await QualityAsync(new DemoOptions { Items = Arg(args, "--items", 20_000), Users = Arg(args, "--users", 2_000) }, Arg(args, "--lists", 1_000));
        return 0;
    }

    private static void Latency(int calls)
    {
        var bench = new RuleChainBenchmarks { Window = 50 };
        bench.Setup();
        for (var i = 0; i < 2000; i++) bench.ShippedChain();
        var times = new double[calls];
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < calls; i++)
        {
            var start = Stopwatch.GetTimestamp();
            bench.ShippedChain();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Array.Sort(times);
        Console.WriteLine($"rule chain (shipped, window 50, 600 candidates, 20 picked), {calls} calls: median {At(times, 0.5):0.0000} ms, p99 {At(times, 0.99):0.0000} ms, max {times[^1]:0.0000} ms, {allocated / (double)calls:0.0} bytes allocated per call");
    }

    private static async Task QualityAsync(DemoOptions demo, int lists)
    {
        var world = DemoWorldGenerator.Generate(demo);
        var settings = new Dictionary<string, string?>
        {
            ["Experiments:Running:0:Name"] = "bench",
            ["Experiments:Running:0:Salt"] = "bench",
            ["Experiments:Running:0:TrafficShare"] = "0",
        };
        for (var v = 0; v < Chains.Length; v++)
        {
            settings[$"Experiments:Running:0:Variants:{v}:Name"] = Chains[v].Name;
            for (var r = 0; r < Chains[v].Rules.Count; r++)
            {
                var rule = Chains[v].Rules[r];
                var prefix = $"Experiments:Running:0:Variants:{v}:ReRankingRules:{r}:";
                settings[prefix + "Type"] = rule.Type;
                settings[prefix + "Lambda"] = rule.Lambda.ToString(CultureInfo.InvariantCulture);
                settings[prefix + "Max"] = rule.Max.ToString(CultureInfo.InvariantCulture);
                settings[prefix + "Min"] = rule.Min.ToString(CultureInfo.InvariantCulture);
                settings[prefix + "Source"] = rule.Source;
                settings[prefix + "Weight"] = rule.Weight.ToString(CultureInfo.InvariantCulture);
                settings[prefix + "HalfLifeHours"] = rule.HalfLifeHours.ToString(CultureInfo.InvariantCulture);
                settings[prefix + "Slots"] = rule.Slots.ToString(CultureInfo.InvariantCulture);
                settings[prefix + "MaxImpressions"] = rule.MaxImpressions.ToString(CultureInfo.InvariantCulture);
                settings[prefix + "FreshHours"] = rule.FreshHours.ToString(CultureInfo.InvariantCulture);
                settings[prefix + "LocaleWeight"] = rule.LocaleWeight.ToString(CultureInfo.InvariantCulture);
                settings[prefix + "Soft"] = rule.Soft ? "true" : "false";
                settings[prefix + "LanguageMode"] = rule.LanguageMode;
                for (var a = 0; a < rule.AcceptLanguages.Count; a++) settings[prefix + $"AcceptLanguages:{a}"] = rule.AcceptLanguages[a];
                for (var p = 0; p < rule.Positions.Count; p++) settings[prefix + $"Positions:{p}"] = rule.Positions[p].ToString(CultureInfo.InvariantCulture);
            }
        }
        await using var provider = await RecSys.Benchmarks.Macro.FunnelHost.CreateAsync(world, settings, new FixedClock(world.Anchor));
        var pipeline = provider.GetRequiredService<RecommendationPipeline>();
        var social = provider.GetRequiredService<ISocialGraph>();
        var d = world.Dimensions;
        var users = Enumerable.Range(0, lists).Select(i => world.Users[(i * 7919) % world.Users.Count]).ToArray();

        // Ideal DCG@10 per user over the whole catalog (the hidden model), computed once.
        var gains = new Dictionary<(int User, int Item), double>();
        var contexts = new SocialContext[users.Length];
        var ideal = new double[users.Length];
        var all = new double[world.Items.Count];
        for (var u = 0; u < users.Length; u++)
        {
            contexts[u] = await social.GetContextAsync(users[u].Index, default);
            for (var i = 0; i < all.Length; i++) all[i] = Gain(world, users[u], world.Items[i], contexts[u]);
            Array.Sort(all);
            Array.Reverse(all);
            for (var k = 0; k < 10; k++) ideal[u] += all[k] / Math.Log2(k + 2);
        }

        Console.WriteLine($"demo world {world.Items.Count:N0} items, {world.Users.Count:N0} users; {lists} lists of 20 per chain");
        Console.WriteLine($"{"chain",-14} {"ILD@20",8} {"coverage",9} {"NDCG@10",8} {"reRank p99 ms",14}");
        foreach (var (name, _) in Chains)
        {
            double diversity = 0, ndcg = 0;
            var served = new HashSet<int>();
            var times = new List<double>(users.Length);
            for (var u = 0; u < users.Length; u++)
            {
                var result = await pipeline.RecommendAsync(new RecommendationRequest($"b{u}", users[u].Id, 20, Variant: $"bench/{name}"), default);
                times.Add(result.Timings.ReRanking);
                var items = result.Items.Select(i => i.Item.Index).ToArray();
                served.UnionWith(items);
                diversity += IntraListDiversity(world, items, d);
                var dcg = 0.0;
                for (var k = 0; k < Math.Min(10, items.Length); k++) dcg += Gain(world, users[u], world.Items[items[k]], contexts[u]) / Math.Log2(k + 2);
                ndcg += ideal[u] > 0 ? dcg / ideal[u] : 0;
            }
            var sorted = times.Order().ToArray();
            Console.WriteLine($"{name,-14} {diversity / users.Length,8:0.0000} {served.Count / (double)world.Items.Count,9:0.0000} {ndcg / users.Length,8:0.0000} {At(sorted, 0.99),14:0.000}");
        }
    }

    /// <summary>The generator's click probability for the user and item at the world's anchor.</summary>
    private static double Gain(DemoWorld world, UserProfile user, Item item, SocialContext social)
    {
        var d = world.Dimensions;
        var utility = DemoWorldGenerator.Utility(world.UserTastes.AsSpan(user.Index * d, d), world.TrueItemVectors.AsSpan(item.Index * d, d),
            world.ItemQuality[item.Index], Math.Max(0, (world.Anchor - item.CreatedAt).TotalDays), social.Follows(item.AuthorIndex),
            social.IsFriend(item.AuthorIndex), item.Language == user.Language);
        return 1 / (1 + Math.Exp(-(utility - 1.5)));
    }

    private static double IntraListDiversity(DemoWorld world, int[] items, int d)
    {
        if (items.Length < 2) return 0;
        double sum = 0;
        var pairs = 0;
        for (var a = 0; a < items.Length; a++)
        {
            for (var b = a + 1; b < items.Length; b++)
            {
                sum += 1 - TensorPrimitives.CosineSimilarity(world.ItemVectors.AsSpan(items[a] * d, d), world.ItemVectors.AsSpan(items[b] * d, d));
                pairs++;
            }
        }
        return sum / pairs;
    }

    private static double At(double[] sorted, double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];

    private static int Arg(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
