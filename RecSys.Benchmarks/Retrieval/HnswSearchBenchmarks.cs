using BenchmarkDotNet.Attributes;
using RecSys.Retrieval.Hnsw;

namespace RecSys.Benchmarks.Retrieval;

/// <summary>
/// One HNSW search (single thread) on normalised clustered vectors, unfiltered and with half the items eligible
/// (bitset inside the walk); compare with <see cref="ExactSearchBenchmarks"/>. The index is built once per
/// (items, dimensions) and shared by the cases. The `ann` verb gives recall and the peers' figures.
/// </summary>
[MemoryDiagnoser]
public class HnswSearchBenchmarks
{
    private static readonly Dictionary<(int, int), (HnswIndex Index, float[] Queries)> Built = [];
    private HnswIndex _index = null!;
    private float[] _queries = null!;
    private ulong[] _half = null!;
    private int[] _ids = null!;
    private float[] _scores = null!;
    private int _next;

    [Params(100_000)]
    public int Items { get; set; }

    [Params(64)]
    public int Dimensions { get; set; }

    [Params(10, 500)]
    public int K { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        if (!Built.TryGetValue((Items, Dimensions), out var built))
        {
            var rng = new Random(1);
            var centres = new float[500 * Dimensions];
            for (var i = 0; i < centres.Length; i++) centres[i] = (float)(rng.NextDouble() - 0.5);
            float[] Draw(int n)
            {
                var data = new float[n * Dimensions];
                for (var i = 0; i < n; i++)
                {
                    var c = rng.Next(500);
                    for (var d = 0; d < Dimensions; d++) data[(i * Dimensions) + d] = centres[(c * Dimensions) + d] + (0.05f * (float)(rng.NextDouble() - 0.5));
                    Distances.Normalize(data.AsSpan(i * Dimensions, Dimensions));
                }
                return data;
            }
            var vectors = Draw(Items);
            built = (HnswIndex.Build(vectors, Dimensions, HnswMetric.InnerProduct, new HnswParameters(16, 100), Environment.ProcessorCount), Draw(256));
            Built[(Items, Dimensions)] = built;
        }
        (_index, _queries) = built;
        _half = new ulong[(Items + 63) / 64];
        for (var i = 0; i < Items; i += 2) _half[i >> 6] |= 1UL << i;
        _ids = new int[K];
        _scores = new float[K];
    }

    private ReadOnlySpan<float> NextQuery()
    {
        _next = (_next + 1) & 255;
        return _queries.AsSpan(_next * Dimensions, Dimensions);
    }

    [Benchmark]
    public int Search() => _index.Search(NextQuery(), K, Math.Max(64, K), _ids, _scores);

    [Benchmark]
    public int SearchHalfEligible() => _index.Search(NextQuery(), K, Math.Max(64, K), new BitsetFilter(_half), _ids, _scores);
}
