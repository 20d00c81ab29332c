using System.Numerics.Tensors;
using MathNet.Numerics.LinearAlgebra.Double;

namespace RecSys.Training.Als;

/// <summary>
/// The numerical core of weighted implicit ALS. A row solve costs O(n_u k² + k³): the Gram matrix of the fixed side is
/// computed once per half-iteration, and only the observed entries add their rank-one corrections
/// (Hu, Koren, Volinsky 2008, section 4). The k x k systems are symmetric positive definite for λ > 0 and are solved
/// by an in-place Cholesky decomposition (no allocation; measured several times faster than a MathNet
/// <c>Cholesky()</c> per row on the 100,000-item demo world); a system that is not positive definite (λ = 0 and
/// too few interactions) falls back to MathNet's SVD least-squares solve.
/// </summary>
internal static class AlsSolver
{
    /// <summary>Scratch for one row solve, exactly sized so that MathNet can bind to the arrays without copying.</summary>
    internal sealed class Workspace(int k)
    {
        public int K { get; } = k;
        public double[] A { get; } = new double[k * k];
        public double[] B { get; } = new double[k];
        public double[] X { get; } = new double[k];
        public double[] Y { get; } = new double[k];

        /// <summary>Woodbury scratch: B⁻¹ y_j for up to k/2 observed columns, and the small system over them.</summary>
        public double[] W { get; } = new double[Math.Max(1, k / 2) * k];
        public double[] Small { get; } = new double[Math.Max(1, k / 2) * Math.Max(1, k / 2)];
        public double[] SmallB { get; } = new double[Math.Max(1, k / 2)];
        public double[] SmallX { get; } = new double[Math.Max(1, k / 2)];
        public double[] C { get; } = new double[Math.Max(1, k / 2)];
    }

    /// <summary>(G + λI)⁻¹, row-major, or null when G + λI is not positive definite (then every row takes the Cholesky path).</summary>
    public static double[]? BaseInverse(double[] gram, double lambda, int k)
    {
        var inverse = new double[k * k];
        var a = new double[k * k];
        var e = new double[k];
        var x = new double[k];
        for (var col = 0; col < k; col++)
        {
            gram.AsSpan(0, k * k).CopyTo(a);
            for (var d = 0; d < k; d++) a[(d * k) + d] += lambda;
            Array.Clear(e);
            e[col] = 1;
            if (!CholeskySolve(a, e, x, k)) return null;
            for (var d = 0; d < k; d++) inverse[(d * k) + col] = x[d];
        }
        return inverse;
    }

    private const int GramChunks = 16;

    /// <summary>Σ_i v_i v_iᵀ over the rows of <paramref name="factors"/> (k x k, row-major = column-major since symmetric).</summary>
    public static double[] Gram(float[] factors, int rows, int k, int maxThreads)
    {
        // Fixed chunks summed in a fixed order: the result does not depend on the number of threads.
        var partial = new double[GramChunks][];
        Parallel.For(0, GramChunks, Threads(maxThreads), chunk =>
        {
            var g = new double[k * k];
            var v = new double[k];
            var from = (int)((long)rows * chunk / GramChunks);
            var to = (int)((long)rows * (chunk + 1) / GramChunks);
            for (var r = from; r < to; r++)
            {
                var row = factors.AsSpan(r * k, k);
                for (var j = 0; j < k; j++) v[j] = row[j];
                for (var j = 0; j < k; j++)
                {
                    if (v[j] != 0) TensorPrimitives.MultiplyAdd<double>(v, v[j], g.AsSpan(j * k, k), g.AsSpan(j * k, k));
                }
            }
            partial[chunk] = g;
        });
        var sum = new double[k * k];
        foreach (var g in partial) TensorPrimitives.Add<double>(sum, g, sum);
        return sum;
    }

    /// <summary>
    /// Solves (G + λI + Σ (c_j - 1) y_j y_jᵀ) x = Σ c_j y_j over the given columns j with strengths s_j, c_j = 1 + α s_j;
    /// each occurrence of a column counts separately. Columns outside <paramref name="otherRows"/> are skipped.
    /// </summary>
    public static void SolveRow(double[] gram, double[]? baseInverse, float[] other, int otherRows, int k, ReadOnlySpan<int> columns, ReadOnlySpan<float> strengths,
        double alpha, double lambda, Workspace w, Span<float> destination)
    {
        if (columns.Length == 0)
        {
            // Nothing observed: the right-hand side is zero, and so is the solution.
            destination.Clear();
            return;
        }
        if (baseInverse is not null && columns.Length <= k / 2 && alpha > 0 && SolveWoodbury(baseInverse, other, otherRows, k, columns, strengths, alpha, w, destination))
        {
            return;
        }
        var a = w.A.AsSpan(0, k * k);
        var b = w.B.AsSpan(0, k);
        var y = w.Y.AsSpan(0, k);
        gram.AsSpan(0, k * k).CopyTo(a);
        for (var d = 0; d < k; d++) a[(d * k) + d] += lambda;
        b.Clear();
        for (var n = 0; n < columns.Length; n++)
        {
            var j = columns[n];
            if ((uint)j >= (uint)otherRows) continue;
            var c = 1 + (alpha * strengths[n]);
            var row = other.AsSpan(j * k, k);
            for (var d = 0; d < k; d++) y[d] = row[d];
            var extra = c - 1;
            if (extra != 0)
            {
                // The Cholesky solve reads only the lower triangle (and the diagonal): the rank-one update skips the
                // upper half, the same element-wise products on the half that is read (half the work of the dense update).
                for (var d = 0; d < k; d++)
                {
                    var s = extra * y[d];
                    if (s != 0) TensorPrimitives.MultiplyAdd(y[..(d + 1)], s, a.Slice(d * k, d + 1), a.Slice(d * k, d + 1));
                }
            }
            TensorPrimitives.MultiplyAdd(y, c, b, b);
        }
        if (!CholeskySolve(a, b, w.X, k))
        {
            // Rebuild A (the failed factorisation overwrote it) and let MathNet find the least-squares solution.
            SolveWithMathNet(gram, other, otherRows, k, columns, strengths, alpha, lambda, w);
        }
        for (var d = 0; d < k; d++) destination[d] = (float)w.X[d];
    }

    /// <summary>
    /// The same solve for a row with few observations n (n ≤ k/2), in O(n k² + n³) instead of O(k³): with B = G + λI,
    /// U the observed vectors and S = diag(c - 1), (B + U S Uᵀ)⁻¹ b = t - W (S⁻¹ + Uᵀ W)⁻¹ Uᵀ t, where W = B⁻¹ U and
    /// t = B⁻¹ b = W c (Woodbury identity). Returns false (the caller then takes the Cholesky path) if a strength is not positive.
    /// </summary>
    private static bool SolveWoodbury(double[] baseInverse, float[] other, int otherRows, int k, ReadOnlySpan<int> columns, ReadOnlySpan<float> strengths,
        double alpha, Workspace w, Span<float> destination)
    {
        var n = 0;
        var y = w.Y.AsSpan(0, k);
        var t = w.X.AsSpan(0, k);
        t.Clear();
        for (var m = 0; m < columns.Length; m++)
        {
            var j = columns[m];
            if ((uint)j >= (uint)otherRows) continue;
            var s = alpha * strengths[m];
            if (!(s > 0)) return false;
            var row = other.AsSpan(j * k, k);
            for (var d = 0; d < k; d++) y[d] = row[d];
            var wm = w.W.AsSpan(n * k, k);
            for (var d = 0; d < k; d++) wm[d] = TensorPrimitives.Dot<double>(baseInverse.AsSpan(d * k, k), y);
            w.C[n] = s;
            TensorPrimitives.MultiplyAdd(wm, 1 + s, t, t);
            n++;
        }
        if (n == 0)
        {
            destination.Clear();
            return true;
        }
        // Small system: (S⁻¹ + Uᵀ W) z = Uᵀ t; Uᵀ W is symmetric since W = B⁻¹ U.
        var small = w.Small.AsSpan(0, n * n);
        var rhs = w.SmallB.AsSpan(0, n);
        var m2 = 0;
        for (var p = 0; p < columns.Length; p++)
        {
            var j = columns[p];
            if ((uint)j >= (uint)otherRows) continue;
            var row = other.AsSpan(j * k, k);
            for (var d = 0; d < k; d++) y[d] = row[d];
            for (var q = 0; q < n; q++) small[(m2 * n) + q] = TensorPrimitives.Dot<double>(y, w.W.AsSpan(q * k, k));
            small[(m2 * n) + m2] += 1 / w.C[m2];
            rhs[m2] = TensorPrimitives.Dot<double>(y, t);
            m2++;
        }
        var z = w.SmallX.AsSpan(0, n);
        if (!CholeskySolve(small, rhs, z, n)) return false;
        for (var q = 0; q < n; q++) TensorPrimitives.MultiplyAdd(w.W.AsSpan(q * k, k), -z[q], t, t);
        for (var d = 0; d < k; d++) destination[d] = (float)t[d];
        return true;
    }

    /// <summary>
    /// Solves A x = b for symmetric positive definite A (row-major k x k), overwriting A's lower triangle with its
    /// Cholesky factor L (A = L Lᵀ). Returns false when A is not positive definite.
    /// </summary>
    internal static bool CholeskySolve(Span<double> a, ReadOnlySpan<double> b, Span<double> x, int k)
    {
        for (var j = 0; j < k; j++)
        {
            var rowJ = a.Slice(j * k, j);
            var diagonal = a[(j * k) + j] - TensorPrimitives.Dot<double>(rowJ, rowJ);
            if (!(diagonal > 1e-12)) return false;
            var l = Math.Sqrt(diagonal);
            a[(j * k) + j] = l;
            for (var i = j + 1; i < k; i++)
            {
                a[(i * k) + j] = (a[(i * k) + j] - TensorPrimitives.Dot<double>(a.Slice(i * k, j), rowJ)) / l;
            }
        }
        // L z = b, then Lᵀ x = z (x holds z in between).
        for (var i = 0; i < k; i++) x[i] = (b[i] - TensorPrimitives.Dot<double>(a.Slice(i * k, i), x[..i])) / a[(i * k) + i];
        for (var i = k - 1; i >= 0; i--)
        {
            var sum = x[i];
            for (var j = i + 1; j < k; j++) sum -= a[(j * k) + i] * x[j];
            x[i] = sum / a[(i * k) + i];
        }
        return true;
    }

    private static void SolveWithMathNet(double[] gram, float[] other, int otherRows, int k, ReadOnlySpan<int> columns, ReadOnlySpan<float> strengths,
        double alpha, double lambda, Workspace w)
    {
        var a = new double[k * k];
        gram.AsSpan(0, k * k).CopyTo(a);
        for (var d = 0; d < k; d++) a[(d * k) + d] += lambda;
        var y = new double[k];
        for (var n = 0; n < columns.Length; n++)
        {
            if ((uint)columns[n] >= (uint)otherRows) continue;
            var row = other.AsSpan(columns[n] * k, k);
            for (var d = 0; d < k; d++) y[d] = row[d];
            var extra = alpha * strengths[n];
            for (var d = 0; d < k; d++) TensorPrimitives.MultiplyAdd(y, extra * y[d], a.AsSpan(d * k, k), a.AsSpan(d * k, k));
        }
        // Symmetric, so row-major equals MathNet's column-major storage.
        var solution = new DenseMatrix(k, k, a).Svd(computeVectors: true).Solve(new DenseVector(w.B));
        for (var d = 0; d < k; d++) w.X[d] = solution[d];
    }

    public static AlsModel Train(InteractionMatrix matrix, AlsOptions o, Action<int, double>? onIteration, bool computeLoss, CancellationToken cancellationToken)
    {
        var k = o.Factors;
        var users = matrix.Rows;
        var items = matrix.Columns;
        var x = new float[users * k];
        var y = new float[items * k];
        var rng = new Random(o.Seed);
        foreach (var target in new[] { x, y })
        {
            for (var i = 0; i < target.Length; i++) target[i] = (float)(o.InitScale * Gaussian(rng));
        }
        var transposed = matrix.Transpose();
        for (var iteration = 1; iteration <= o.Iterations; iteration++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            HalfStep(transposed, x, users, y, o, cancellationToken);
            HalfStep(matrix, y, items, x, o, cancellationToken);
            onIteration?.Invoke(iteration, computeLoss ? Loss(matrix, x, y, k, o.Alpha, o.Regularization, o.MaxThreads) : double.NaN);
        }
        return new AlsModel(o, users, items, x, y);
    }

    /// <summary>Re-solves every row of <paramref name="target"/> (rows of <paramref name="rows"/>) against the fixed <paramref name="fixedSide"/>.</summary>
    private static void HalfStep(InteractionMatrix rows, float[] fixedSide, int fixedCount, float[] target, AlsOptions o, CancellationToken cancellationToken)
    {
        var k = o.Factors;
        var gram = Gram(fixedSide, fixedCount, k, o.MaxThreads);
        var inverse = BaseInverse(gram, o.Regularization, k);
        var options = Threads(o.MaxThreads);
        options.CancellationToken = cancellationToken;
        Parallel.For(0, rows.Rows, options, () => new Workspace(k), (r, _, w) =>
        {
            SolveRow(gram, inverse, fixedSide, fixedCount, k, rows.RowIndices(r), rows.RowValues(r), o.Alpha, o.Regularization, w, target.AsSpan(r * k, k));
            return w;
        }, _ => { });
    }

    public static double Loss(InteractionMatrix matrix, float[] x, float[] y, int k, double alpha, double lambda, int maxThreads)
    {
        var gram = Gram(y, matrix.Columns, k, maxThreads);
        var perUser = new double[matrix.Rows];
        Parallel.For(0, matrix.Rows, Threads(maxThreads), u =>
        {
            var xu = x.AsSpan(u * k, k);
            var xd = new double[k];
            for (var d = 0; d < k; d++) xd[d] = xu[d];
            // Σ_i (x·y_i)² over all items = xᵀ G x; observed items then correct to c (1 - x·y)².
            var total = 0.0;
            for (var d = 0; d < k; d++) total += xd[d] * TensorPrimitives.Dot<double>(gram.AsSpan(d * k, k), xd);
            var cols = matrix.RowIndices(u);
            var vals = matrix.RowValues(u);
            for (var n = 0; n < cols.Length; n++)
            {
                double s = TensorPrimitives.Dot(xu, y.AsSpan(cols[n] * k, k));
                var c = 1 + (alpha * vals[n]);
                total += (c * (1 - s) * (1 - s)) - (s * s);
            }
            perUser[u] = total;
        });
        var loss = 0.0;
        foreach (var v in perUser) loss += v;
        double norms = TensorPrimitives.SumOfSquares(x) + TensorPrimitives.SumOfSquares(y);
        return loss + (lambda * norms);
    }

    private static ParallelOptions Threads(int maxThreads) => new() { MaxDegreeOfParallelism = maxThreads > 0 ? maxThreads : -1 };

    private static double Gaussian(Random rng)
    {
        var u1 = 1.0 - rng.NextDouble();
        var u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
