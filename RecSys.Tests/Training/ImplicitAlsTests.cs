using RecSys.Training;

namespace RecSys.Tests.Training;

public class ImplicitAlsTests
{
    /// <summary>
    /// Two planted communities: users 0..29 interact only with items 0..19, users 30..59 only with items 20..39, each
    /// with a random half of their block (seeded), items 40..49 never seen.
    /// </summary>
    private static InteractionMatrix Planted(int seed = 3)
    {
        var rng = new Random(seed);
        var entries = new List<(int, int, float)>();
        for (var u = 0; u < 60; u++)
        {
            var block = u < 30 ? 0 : 20;
            for (var i = block; i < block + 20; i++)
            {
                if (rng.NextDouble() < 0.5) entries.Add((u, i, 1f + rng.Next(3)));
            }
        }
        return InteractionMatrix.FromEntries(60, 50, entries);
    }

    private static readonly AlsOptions Small = new() { Factors = 8, Regularization = 0.1, Alpha = 5, Iterations = 10, Seed = 1 };

    [Fact]
    public void The_loss_never_increases_and_ends_far_below_its_start()
    {
        var matrix = Planted();
        var losses = new List<double>();
        var model = ImplicitAls.Train(matrix, Small, (_, loss) => losses.Add(loss), computeLoss: true);
        Assert.Equal(Small.Iterations, losses.Count);
        // The initial loss (tiny random factors) is about the sum of confidences; measure it with one untrained model.
        var untrained = new AlsModel(Small, 60, 50, new float[60 * 8], new float[50 * 8]);
        var start = ImplicitAls.Loss(matrix, untrained);
        Assert.True(losses[0] < start, $"first iteration {losses[0]} not below the untrained loss {start}");
        for (var k = 1; k < losses.Count; k++) Assert.True(losses[k] <= losses[k - 1] * (1 + 1e-6), $"loss rose at iteration {k + 1}: {losses[k - 1]} -> {losses[k]}");
        Assert.True(losses[^1] < start * 0.5, $"final loss {losses[^1]} not below half of {start}");
        Assert.Equal(losses[^1], ImplicitAls.Loss(matrix, model), 6);
    }

    [Fact]
    public void Planted_communities_are_recovered()
    {
        var matrix = Planted();
        // Two communities need few factors; with more than the data supports, single users' quirks leak across blocks.
        var scorer = Recommenders.Als(ImplicitAls.Train(matrix, Small with { Factors = 4, Regularization = 1 }));
        var scores = new float[50];
        var inBlock = 0;
        var slots = 0;
        for (var u = 0; u < 60; u++)
        {
            scorer.Score(u, scores);
            var seen = matrix.RowIndices(u).ToArray();
            var block = u < 30 ? 0 : 20;
            var top = Enumerable.Range(0, 50).Where(i => !seen.Contains(i)).OrderByDescending(i => scores[i]).Take(5).ToList();
            // The best unseen item is always from the user's own block; of the top five, nearly all (a user who saw
            // 7 of 20 items has a noisy vector, and one who saw 17 has only 3 unseen in the block).
            Assert.InRange(top[0], block, block + 19);
            inBlock += top.Count(i => i >= block && i < block + 20);
            slots += Math.Min(5, Enumerable.Range(block, 20).Count(i => !seen.Contains(i)));
        }
        Assert.True(inBlock >= 0.9 * slots, $"{inBlock} of {slots} top-5 slots in the user's block");
    }

    [Fact]
    public void Fold_in_of_a_training_users_interactions_equals_the_trained_vector()
    {
        var matrix = Planted();
        var model = ImplicitAls.Train(matrix, Small);
        var folded = new float[model.Factors];
        for (var u = 0; u < 60; u += 7)
        {
            Assert.True(model.FoldIn(matrix.RowIndices(u), matrix.RowValues(u), folded));
            var trained = model.UserVector(u);
            for (var d = 0; d < model.Factors; d++) Assert.Equal(trained[d], folded[d], 5);
        }
        // Nothing usable: false and a zero vector.
        Assert.False(model.FoldIn([999], [1f], folded));
        Assert.All(folded, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Training_is_deterministic_for_a_seed_whatever_the_thread_count()
    {
        var matrix = Planted();
        var one = ImplicitAls.Train(matrix, Small with { MaxThreads = 1 });
        var many = ImplicitAls.Train(matrix, Small with { MaxThreads = 4 });
        Assert.Equal(one.ItemFactors, many.ItemFactors);
        Assert.Equal(one.UserFactors, many.UserFactors);
        var other = ImplicitAls.Train(matrix, Small with { Seed = 2 });
        Assert.NotEqual(one.ItemFactors, other.ItemFactors);
    }

    [Fact]
    public void Baselines_score_as_defined()
    {
        var matrix = InteractionMatrix.FromEntries(3, 4, [(0, 0, 1f), (0, 1, 1f), (1, 0, 1f), (1, 1, 1f), (2, 0, 1f), (2, 2, 1f)]);
        var pop = Recommenders.MostPopular(matrix);
        var scores = new float[4];
        pop.Score(0, scores);
        Assert.Equal([3f, 2f, 1f, 0f], scores);

        // cos(0,1) = 2 / sqrt(3 * 2); cos(0,2) = 1 / sqrt(3 * 1); cos(1,2) = 0. User 2 has items 0 and 2:
        // score(1) = cos(0,1) + cos(2,1) = 0.8165; score(3) = 0.
        var knn = Recommenders.ItemKnn(matrix, 100, 1);
        knn.Score(2, scores);
        Assert.Equal(2 / Math.Sqrt(6), scores[1], 5);
        Assert.Equal(0f, scores[3]);
        Assert.Equal(1 / Math.Sqrt(3), scores[0], 5); // via item 2's neighbour 0
    }

    [MovieLensFact]
    public void On_MovieLens_100K_ALS_reaches_the_reference_and_beats_the_baselines()
    {
        var data = DatasetReaders.ReadMovieLens(MovieLensFactAttribute.Directory100K);
        var split = Splits.PerUserTemporal(data, 0.2);
        var users = Evaluation.EvaluatedUsers(split, 0, 42);
        Assert.Equal(943, users.Length);
        var als = Evaluation.Evaluate(Recommenders.Als(ImplicitAls.Train(split.Train, new AlsOptions())), split, users);
        var pop = Evaluation.Evaluate(Recommenders.MostPopular(split.Train), split, users);
        var knn = Evaluation.Evaluate(Recommenders.ItemKnn(split.Train), split, users);
        // PROVENANCE.md reference for implicit ALS: Recall@20 0.195, NDCG@10 0.189.
        Assert.True(als["recall@20"] >= 0.195, Evaluation.Table([pop, knn, als]));
        Assert.True(als["ndcg@10"] >= 0.189, Evaluation.Table([pop, knn, als]));
        Assert.True(als["recall@20"] > knn["recall@20"] && knn["recall@20"] > pop["recall@20"], Evaluation.Table([pop, knn, als]));
    }
}

public class AlsSolverTests
{
    [Fact]
    public void Cholesky_solve_matches_MathNet_and_refuses_a_matrix_that_is_not_positive_definite()
    {
        const int k = 6;
        var rng = new Random(5);
        var m = new double[k * k];
        for (var i = 0; i < m.Length; i++) m[i] = rng.NextDouble() - 0.5;
        // A = M Mᵀ + I is symmetric positive definite.
        var a = new double[k * k];
        for (var i = 0; i < k; i++)
        {
            for (var j = 0; j < k; j++)
            {
                var s = i == j ? 1.0 : 0.0;
                for (var t = 0; t < k; t++) s += m[(i * k) + t] * m[(j * k) + t];
                a[(i * k) + j] = s;
            }
        }
        var b = Enumerable.Range(0, k).Select(i => (double)i - 2).ToArray();
        var expected = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseOfRowMajor(k, k, a).Solve(MathNet.Numerics.LinearAlgebra.Vector<double>.Build.DenseOfArray(b));
        var x = new double[k];
        Assert.True(RecSys.Training.Als.AlsSolver.CholeskySolve((double[])a.Clone(), b, x, k));
        for (var i = 0; i < k; i++) Assert.Equal(expected[i], x[i], 10);

        var indefinite = new double[k * k];
        for (var i = 0; i < k; i++) indefinite[(i * k) + i] = i == 3 ? -1 : 1;
        Assert.False(RecSys.Training.Als.AlsSolver.CholeskySolve(indefinite, b, x, k));
    }

    [Fact]
    public void The_Woodbury_path_for_sparse_rows_gives_the_Cholesky_paths_solution()
    {
        const int k = 16;
        var rng = new Random(8);
        var items = new float[40 * k];
        for (var i = 0; i < items.Length; i++) items[i] = (float)(rng.NextDouble() - 0.5);
        var gram = RecSys.Training.Als.AlsSolver.Gram(items, 40, k, 1);
        var inverse = RecSys.Training.Als.AlsSolver.BaseInverse(gram, 0.3, k);
        Assert.NotNull(inverse);
        int[] columns = [3, 17, 17, 39, 5];
        float[] strengths = [1f, 2f, 0.5f, 4f, 1f];
        var viaCholesky = new float[k];
        var viaWoodbury = new float[k];
        var w = new RecSys.Training.Als.AlsSolver.Workspace(k);
        RecSys.Training.Als.AlsSolver.SolveRow(gram, null, items, 40, k, columns, strengths, 3.0, 0.3, w, viaCholesky);
        RecSys.Training.Als.AlsSolver.SolveRow(gram, inverse, items, 40, k, columns, strengths, 3.0, 0.3, w, viaWoodbury);
        for (var d = 0; d < k; d++) Assert.Equal(viaCholesky[d], viaWoodbury[d], 4);
        Assert.Contains(viaCholesky, v => MathF.Abs(v) > 1e-3f);
    }

    [Fact]
    public void Without_regularisation_a_singular_row_falls_back_to_a_least_squares_solve()
    {
        // λ = 0 and two identical one-hot item vectors: the user system is singular; the result must still be finite.
        var matrix = InteractionMatrix.FromEntries(2, 2, [(0, 0, 1f), (1, 1, 1f)]);
        var model = ImplicitAls.Train(matrix, new AlsOptions { Factors = 4, Regularization = 0, Iterations = 2 });
        Assert.All(model.UserFactors, v => Assert.True(float.IsFinite(v)));
        Assert.All(model.ItemFactors, v => Assert.True(float.IsFinite(v)));
    }
}
