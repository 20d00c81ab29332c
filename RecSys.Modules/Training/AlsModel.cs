using System.ComponentModel.DataAnnotations;
using RecSys.Training.Als;

namespace RecSys.Training;

/// <summary>Hyper-parameters of weighted implicit ALS (Hu, Koren, Volinsky 2008).</summary>
public sealed record AlsOptions
{
    [Range(1, 1024)]
    public int Factors { get; init; } = 64;

    /// <summary>L2 penalty on every user and item vector. The defaults (with <see cref="Alpha"/>) were chosen on MovieLens 100K's per-user temporal split.</summary>
    [Range(0.0, 1e6)]
    public double Regularization { get; init; } = 10;

    /// <summary>Confidence of an observed pair is 1 + Alpha * r.</summary>
    [Range(0.0, 1e6)]
    public double Alpha { get; init; } = 2;

    [Range(1, 1000)]
    public int Iterations { get; init; } = 15;

    public int Seed { get; init; } = 42;

    /// <summary>Standard deviation of the initial factors.</summary>
    public double InitScale { get; init; } = 0.01;

    /// <summary>At most this many threads (0: one per core). Results do not depend on it.</summary>
    public int MaxThreads { get; init; }
}

/// <summary>
/// A trained factorisation: one vector per user and per item in a shared space, score = inner product. The user side
/// at serving time is <see cref="FoldIn"/>, the exact solve training uses for a user row, so a user's query vector
/// from their interactions equals the vector training would give them.
/// </summary>
public sealed class AlsModel
{
    /// <summary>One solve scratch per thread: serving folds in on every request, and the scratch is k² doubles.</summary>
    [ThreadStatic]
    private static AlsSolver.Workspace? t_workspace;

    private readonly Lazy<double[]> _gram;
    private readonly Lazy<double[]?> _inverse;

    public AlsModel(AlsOptions options, int users, int items, float[] userFactors, float[] itemFactors)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(userFactors);
        ArgumentNullException.ThrowIfNull(itemFactors);
        if (userFactors.Length != users * options.Factors) throw new ArgumentException($"{userFactors.Length} user floats for {users} x {options.Factors}.", nameof(userFactors));
        if (itemFactors.Length != items * options.Factors) throw new ArgumentException($"{itemFactors.Length} item floats for {items} x {options.Factors}.", nameof(itemFactors));
        Options = options;
        Users = users;
        Items = items;
        UserFactors = userFactors;
        ItemFactors = itemFactors;
        _gram = new Lazy<double[]>(() => AlsSolver.Gram(itemFactors, items, options.Factors, options.MaxThreads));
        _inverse = new Lazy<double[]?>(() => AlsSolver.BaseInverse(_gram.Value, options.Regularization, options.Factors));
    }

    public AlsOptions Options { get; }
    public int Users { get; }
    public int Items { get; }
    public int Factors => Options.Factors;

    /// <summary>Users x factors, row-major.</summary>
    public float[] UserFactors { get; }

    /// <summary>Items x factors, row-major: the item vectors the service indexes.</summary>
    public float[] ItemFactors { get; }

    public ReadOnlySpan<float> UserVector(int user) => UserFactors.AsSpan(user * Factors, Factors);

    public ReadOnlySpan<float> ItemVector(int item) => ItemFactors.AsSpan(item * Factors, Factors);

    /// <summary>
    /// The user vector that minimises the ALS objective for these interactions against the fixed item factors:
    /// (YᵀY + Yᵀ(C - I)Y + λI) x = YᵀC p, with c = 1 + alpha * strength. Items outside the model are skipped; each
    /// occurrence of an item counts (training merges repeats into one strength first). Returns false (destination zeroed) when no item is usable.
    /// </summary>
    public bool FoldIn(ReadOnlySpan<int> items, ReadOnlySpan<float> strengths, Span<float> destination)
    {
        if (strengths.Length != items.Length) throw new ArgumentException($"{strengths.Length} strengths for {items.Length} items.", nameof(strengths));
        if (destination.Length != Factors) throw new ArgumentException($"Destination has {destination.Length} floats, the model {Factors} factors.", nameof(destination));
        var workspace = t_workspace is { } cached && cached.K == Factors ? cached : t_workspace = new AlsSolver.Workspace(Factors);
        var any = false;
        foreach (var item in items) any |= (uint)item < (uint)Items;
        if (!any)
        {
            destination.Clear();
            return false;
        }
        AlsSolver.SolveRow(_gram.Value, _inverse.Value, ItemFactors, Items, Factors, items, strengths, Options.Alpha, Options.Regularization, workspace, destination);
        return true;
    }

    /// <summary>Fold-in with every item at the same strength (what serving knows: the user's recent positive items).</summary>
    public bool FoldIn(ReadOnlySpan<int> items, float strength, Span<float> destination)
    {
        var strengths = new float[items.Length];
        Array.Fill(strengths, strength);
        return FoldIn(items, strengths, destination);
    }
}

/// <summary>Trains <see cref="AlsModel"/>s.</summary>
public static class ImplicitAls
{
    /// <summary>
    /// Alternates item and user solves, items first so that the final user vectors are exact solves against the final
    /// item vectors (which makes <see cref="AlsModel.FoldIn(ReadOnlySpan{int}, ReadOnlySpan{float}, Span{float})"/> of a
    /// training user reproduce its trained vector). Deterministic for a seed, whatever the thread count.
    /// </summary>
    /// <param name="matrix">Users x items of positive strengths.</param>
    /// <param name="onIteration">Called after each iteration with (iteration, loss) when <paramref name="computeLoss"/>, else loss NaN.</param>
    public static AlsModel Train(InteractionMatrix matrix, AlsOptions options, Action<int, double>? onIteration = null, bool computeLoss = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        ArgumentNullException.ThrowIfNull(options);
        Validator.ValidateObject(options, new ValidationContext(options), validateAllProperties: true);
        return AlsSolver.Train(matrix, options, onIteration, computeLoss, cancellationToken);
    }

    /// <summary>The weighted objective: sum over all pairs of c (p - x·y)² plus λ (|X|² + |Y|²).</summary>
    public static double Loss(InteractionMatrix matrix, AlsModel model)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        ArgumentNullException.ThrowIfNull(model);
        return AlsSolver.Loss(matrix, model.UserFactors, model.ItemFactors, model.Factors, model.Options.Alpha, model.Options.Regularization, model.Options.MaxThreads);
    }
}
