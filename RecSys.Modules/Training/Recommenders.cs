using RecSys.Training.Baselines;

namespace RecSys.Training;

/// <summary>Something that scores every item for a user (higher is better): what the evaluator ranks.</summary>
public interface IItemScorer
{
    string Name { get; }

    int ItemCount { get; }

    /// <summary>Writes one score per item into <paramref name="scores"/> (length <see cref="ItemCount"/>). Thread-safe.</summary>
    void Score(int user, Span<float> scores);
}

/// <summary>The scorers the evaluator compares: the trained model and the baselines it must beat.</summary>
public static class Recommenders
{
    /// <summary>Inner product of the user's trained vector with every item vector.</summary>
    public static IItemScorer Als(AlsModel model) => new AlsScorer(model);

    /// <summary>Items by the number of training users who interacted with them, the same list for everyone.</summary>
    public static IItemScorer MostPopular(InteractionMatrix train) => new MostPopular(train);

    /// <summary>Item-based k-nearest neighbours: cosine similarity on binary co-occurrence, <paramref name="neighbours"/> kept per item.</summary>
    public static IItemScorer ItemKnn(InteractionMatrix train, int neighbours = 100, int maxThreads = 0) => new ItemKnn(train, neighbours, maxThreads);
}
