using BenchmarkDotNet.Running;
using RecSys.Benchmarks.Macro;

// Macro verbs run whole stages end to end and print figures; anything else goes to BenchmarkDotNet
// (for example: --filter '*ExactSearch*', or --list flat).
return args.FirstOrDefault() switch
{
    "funnel" => await FunnelBenchmark.RunAsync(args[1..]),
    "events" => await RecSys.Benchmarks.Events.EventsBenchmark.RunAsync(args[1..]),
    "ranking" => await RecSys.Benchmarks.Ranking.RankingBenchmark.RunAsync(args[1..]),
    "redis" => await RecSys.Benchmarks.Stores.RedisBenchmark.RunAsync(args[1..]),
    "ann" => AnnBenchmark.Run(args[1..]),
    "rerank" => await RecSys.Benchmarks.ReRanking.ReRankingBenchmark.RunAsync(args[1..]),
    _ => RunBenchmarkDotNet(args),
};

static int RunBenchmarkDotNet(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(FunnelBenchmark).Assembly).Run(args);
    return 0;
}
