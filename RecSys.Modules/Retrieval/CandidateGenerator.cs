using System.Buffers;
using System.Numerics.Tensors;
using Microsoft.Extensions.Options;
using RecSys.Retrieval.Exact;
using RecSys.Retrieval.Sources;

namespace RecSys.Retrieval;

/// <summary>
/// Runs the candidate sources and merges them: ANN over the query vector (exact search for now), then popular items.
/// Items found by several sources are kept once with every source flag; every candidate passed the eligibility filter;
/// every candidate carries its similarity to the query vector.
/// </summary>
internal sealed class CandidateGenerator(ItemEmbeddingStore embeddingStore, PopularItems popular, IOptions<RetrievalOptions> options) : ICandidateGenerator
{
    [ThreadStatic] private static Dictionary<int, int>? t_positions;

    public ValueTask<CandidateSet> GenerateAsync(CandidateQuery query, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var o = options.Value;
        var embeddings = embeddingStore.Current ?? throw new InvalidOperationException("Item embeddings are not loaded yet.");
        var annCount = query.IsColdStart ? 0 : o.AnnCount;
        var popularCount = query.IsColdStart ? o.ColdStartCount : o.PopularCount;

        var set = new CandidateSet(annCount + popularCount);
        var ids = ArrayPool<int>.Shared.Rent(Math.Max(annCount, popularCount));
        var scores = ArrayPool<float>.Shared.Rent(annCount);
        var positions = t_positions ??= new Dictionary<int, int>(1024);
        try
        {
            if (annCount > 0)
            {
                var found = ExactSearch.Search(embeddings, query.QueryVector.Span, query.Filter, ids.AsSpan(0, annCount), scores.AsSpan(0, annCount));
                for (var i = 0; i < found; i++)
                {
                    positions[ids[i]] = set.Count;
                    set.Add(ids[i], scores[i], CandidateSource.Ann);
                }
            }

            cancellationToken.ThrowIfCancellationRequested();
            var taken = popular.Take(popularCount, query.Filter, query.LanguageCode, query.RegionCode, ids.AsSpan(0, popularCount));
            var queryVector = query.QueryVector.Span;
            for (var i = 0; i < taken; i++)
            {
                var item = ids[i];
                if (positions.TryGetValue(item, out var position))
                {
                    set.AddSource(position, CandidateSource.Popular);
                    continue;
                }
                var similarity = queryVector.IsEmpty ? 0f : TensorPrimitives.Dot(embeddings.Vector(item), queryVector);
                positions[item] = set.Count;
                set.Add(item, similarity, CandidateSource.Popular);
            }
            return ValueTask.FromResult(set);
        }
        catch
        {
            set.Dispose();
            throw;
        }
        finally
        {
            positions.Clear();
            ArrayPool<int>.Shared.Return(ids);
            ArrayPool<float>.Shared.Return(scores);
        }
    }
}
