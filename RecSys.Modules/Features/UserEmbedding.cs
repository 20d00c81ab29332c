using System.Numerics.Tensors;
using RecSys.Retrieval;

namespace RecSys.Features;

/// <summary>
/// Stage 1 of the funnel: the user's query vector, folded in from the vectors of their recent items. This is the mean
/// of those vectors, L2-normalised: a temporary fold-in until the trainer's ALS fold-in replaces it with the same call.
/// </summary>
public static class UserEmbedding
{
    /// <summary>
    /// Writes the query vector into <paramref name="destination"/> (length = dimensions) from at most
    /// <paramref name="maxItems"/> of <paramref name="recentItems"/>. Returns false when no usable item is found.
    /// </summary>
    public static bool FoldIn(ItemEmbeddings embeddings, ReadOnlySpan<int> recentItems, int maxItems, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        if (destination.Length != embeddings.Dimensions)
        {
            throw new ArgumentException($"Destination has {destination.Length} floats, embeddings have {embeddings.Dimensions} dimensions.", nameof(destination));
        }
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
