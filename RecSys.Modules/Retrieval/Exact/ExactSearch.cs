using System.Numerics.Tensors;

namespace RecSys.Retrieval.Exact;

/// <summary>
/// Exact maximum-inner-product search over every item vector with SIMD dot products. It is the reference the ANN index
/// is tested and benchmarked against, and the retrieval used until that index lands.
/// </summary>
internal static class ExactSearch
{
    /// <summary>
    /// Writes the k items with the largest inner product with <paramref name="query"/>, best first, into
    /// <paramref name="ids"/> and <paramref name="scores"/> (both of length k), skipping items the filter rejects, and
    /// returns how many were written (fewer than k only when fewer items are eligible).
    /// </summary>
    public static int Search(ItemEmbeddings embeddings, ReadOnlySpan<float> query, EligibilityFilter? filter, Span<int> ids, Span<float> scores)
    {
        if (query.Length != embeddings.Dimensions)
        {
            throw new ArgumentException($"Query has {query.Length} dimensions, the index has {embeddings.Dimensions}.", nameof(query));
        }
        var heap = new TopK(scores, ids);
        var data = embeddings.Data.AsSpan();
        var dims = embeddings.Dimensions;
        for (var item = 0; item < embeddings.Count; item++)
        {
            var score = TensorPrimitives.Dot(data.Slice(item * dims, dims), query);
            // The filter runs only for items that would enter the heap, which after warm-up is a small fraction.
            if (score > heap.Threshold && (filter is null || filter.IsEligible(item)))
            {
                heap.Push(score, item);
            }
        }
        return heap.SortDescending();
    }
}
