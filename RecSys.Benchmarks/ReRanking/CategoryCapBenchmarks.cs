using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Options;
using RecSys.Catalog;
using RecSys.ReRanking;
using RecSys.ReRanking.Rules;

namespace RecSys.Benchmarks.ReRanking;

[MemoryDiagnoser]
public class CategoryCapBenchmarks
{
    private readonly CategoryCapReRanker _reRanker = new(Options.Create(new ReRankingOptions()));
    private ItemColumns _columns = null!;
    private int[] _ordered = null!;
    private readonly int[] _chosen = new int[20];

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(2);
        _columns = new ItemColumns(100_000);
        for (var i = 0; i < _columns.Count; i++) _columns.CategoryIds[i] = rng.Next(20);
        _ordered = Enumerable.Range(0, 200).Select(_ => rng.Next(_columns.Count)).ToArray();
    }

    [Benchmark]
    public int ReRank200To20() => _reRanker.ReRank(_ordered, _columns, 20, _chosen);
}
