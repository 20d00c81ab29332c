using System.Numerics.Tensors;
using RecSys.Retrieval;

namespace RecSys.Features;

/// <summary>
/// Stage 1 of the funnel: the user's query vector, folded in from the vectors of their recent items. Vectors of a
/// trained model carry the trainer's own fold-in (<see cref="ItemEmbeddings.FoldIn"/>, ALS: the exact solve training
/// uses for a user row, with the manifest's alpha, regularisation, strength and history length), and that is used;
/// vectors without one (the generated demo world's) use the mean of the recent items' vectors, L2-normalised.
/// </summary>
public static class UserEmbedding
{
    /// <summary>
    /// Writes the query vector into <paramref name="destination"/> (length = dimensions) from at most
    /// <paramref name="maxItems"/> of <paramref name="recentItems"/> (a trained fold-in uses the history length it
    /// was trained with instead). Returns false when no usable item is found.
    /// </summary>
    public static bool FoldIn(ItemEmbeddings embeddings, ReadOnlySpan<int> recentItems, int maxItems, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        if (destination.Length != embeddings.Dimensions)
        {
            throw new ArgumentException($"Destination has {destination.Length} floats, embeddings have {embeddings.Dimensions} dimensions.", nameof(destination));
        }
        if (embeddings.FoldIn is { } trained) return trained.FoldIn(recentItems, destination);
        destination.Clear();
        var used = 0;
        foreach (var item in recentItems)
        {
            if (used == maxItems) break;
            if ((uint)item >= (uint)embeddings.Count) continue;
            TensorPrimitives.Add(destination, embeddings.Vector(item), destination);
            used++;
        }
        if (used == 0) return false;
        var norm = TensorPrimitives.Norm(destination);
        if (norm <= 0f || !float.IsFinite(norm)) return false;
        TensorPrimitives.Divide(destination, norm, destination);
        return true;
    }
}
