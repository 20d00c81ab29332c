using BenchmarkDotNet.Attributes;
using MathNet.Numerics.LinearAlgebra;
using RecSys.Training;
using RecSys.Training.Als;

namespace RecSys.Benchmarks.Training;

/// <summary>
/// One ALS row solve (= one serving fold-in) with k = 64 and n observed items: the Woodbury path (n ≤ k/2), the
/// in-place Cholesky path, and MathNet's allocating Cholesky for comparison.
/// </summary>
[MemoryDiagnoser]
public class AlsSolveBenchmarks
{
    private const int K = 64;
    private const int Items = 5000;
    private float[] _items = null!;
    private double[] _gram = null!;
    private double[]? _inverse;
    private int[] _columns = null!;
    private float[] _strengths = null!;
    private AlsSolver.Workspace _workspace = null!;
    private readonly float[] _destination = new float[K];

    [Params(4, 20, 100)]
    public int Observed { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        _items = new float[Items * K];
        for (var i = 0; i < _items.Length; i++) _items[i] = (float)((rng.NextDouble() - 0.5) * 0.2);
        _gram = AlsSolver.Gram(_items, Items, K, 1);
        _inverse = AlsSolver.BaseInverse(_gram, 10, K);
        _columns = Enumerable.Range(0, Observed).Select(_ => rng.Next(Items)).ToArray();
        _strengths = Enumerable.Repeat(1f, Observed).ToArray();
        _workspace = new AlsSolver.Workspace(K);
    }

    [Benchmark(Baseline = true)]
    public float Cholesky()
    {
        AlsSolver.SolveRow(_gram, null, _items, Items, K, _columns, _strengths, 2, 10, _workspace, _destination);
        return _destination[0];
    }

    [Benchmark]
    public float WoodburyWhereApplicable()
    {
        AlsSolver.SolveRow(_gram, _inverse, _items, Items, K, _columns, _strengths, 2, 10, _workspace, _destination);
        return _destination[0];
    }

    [Benchmark]
    public double MathNetCholesky()
    {
        var a = Matrix<double>.Build.DenseOfColumnMajor(K, K, _gram);
        for (var d = 0; d < K; d++) a[d, d] += 10;
        var b = Vector<double>.Build.Dense(K);
        foreach (var j in _columns)
        {
            var y = Vector<double>.Build.Dense(K, d => _items[(j * K) + d]);
            a += 2 * y.OuterProduct(y);
            b += 3 * y;
        }
        return a.Cholesky().Solve(b)[0];
    }
}
