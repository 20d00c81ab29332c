using BenchmarkDotNet.Attributes;
using RecSys.Retrieval;
using RecSys.Retrieval.Exact;

namespace RecSys.Benchmarks.Retrieval;

/// <summary>Exact top-K over every item vector: the baseline the ANN index must beat.</summary>
[MemoryDiagnoser]
public class ExactSearchBenchmarks
{
    private ItemEmbeddings _embeddings = null!;
    private float[] _query = null!;
    private int[] _ids = null!;
    private float[] _scores = null!;

    [Params(100_000)]
    public int Items { get; set; }

    [Params(32, 64)]
    public int Dimensions { get; set; }

    [Params(10, 500)]
    public int K { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        var data = new float[Items * Dimensions];
        for (var i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() - 0.5);
        _embeddings = new ItemEmbeddings("bench", Dimensions, data);
        _query = Enumerable.Range(0, Dimensions).Select(i => (float)Math.Sin(i)).ToArray();
        _ids = new int[K];
        _scores = new float[K];
    }

    [Benchmark]
    public int Search() => ExactSearch.Search(_embeddings, _query, null, _ids, _scores);
}
