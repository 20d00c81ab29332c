using System.Buffers;
using System.Numerics.Tensors;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RecSys.Catalog;
using RecSys.Features;
using RecSys.Retrieval.Exact;
using RecSys.Retrieval.Hnsw;
using RecSys.Retrieval.Sources;

namespace RecSys.Retrieval;

/// <summary>
/// Runs the candidate sources and merges them. ANN over the query vector (the HNSW index, or the exact scan until the
/// index of the current embeddings is built) and popular items run on the request's thread; item-to-item, social,
/// trending and fresh run concurrently beside them, each with its quota, and are left out (and logged) when they miss
/// the source timeout. The merge walks the sources in priority order (ann, item2item, social, trending, fresh,
/// popular): each item is kept once with every source flag, the eligibility filter runs once per distinct item, each
/// source contributes at most its quota, the set stops growing at <see cref="RetrievalOptions.MaxCandidates"/>, and
/// every candidate carries its similarity to the query vector.
/// </summary>
internal sealed partial class CandidateGenerator(
    ItemEmbeddingStore embeddingStore,
    AnnIndexHolder indexHolder,
    PopularItems popular,
    CatalogItemLists lists,
    IFeatureStore featureStore,
    IOptions<RetrievalOptions> options,
    ILogger<CandidateGenerator> logger) : ICandidateGenerator
{
    /// <summary>Sources that filter at merge time fetch this many times their quota, so ineligible items do not starve them.</summary>
    private const int OverFetch = 2;

    /// <summary>Items per author the social source considers.</summary>
    private const int SocialItemsPerAuthor = 5;

    /// <summary>Item -> position in the set, or -1 for an item found ineligible.</summary>
    [ThreadStatic] private static Dictionary<int, int>? t_positions;

    private volatile ItemEmbeddings? _exactLoggedFor;

    private readonly record struct SourceOutput(int[] Items, int Count);

    public async ValueTask<CandidateSet> GenerateAsync(CandidateQuery query, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var o = options.Value;
        var embeddings = embeddingStore.Current ?? throw new InvalidOperationException("Item embeddings are not loaded yet.");
        var personal = !query.IsColdStart;
        var index = indexHolder.For(embeddings);
        if (personal && index is null && o.UsesIndex && !ReferenceEquals(_exactLoggedFor, embeddings))
        {
            _exactLoggedFor = embeddings;
            LogExactServes(embeddings.Version);
        }

        var annCount = personal ? query.AnnCount ?? o.AnnCount : 0;
        var popularCount = personal ? query.PopularCount ?? o.PopularCount : o.ColdStartCount;

        // Side sources start first so they run while ANN searches on this thread.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(o.SourceTimeoutMilliseconds);
        var token = timeout.Token;
        var recent = query.RecentItems;
        var itemToItem = personal && o.ItemToItemCount > 0 && !recent.IsEmpty
            ? Task.Run(() => ItemToItem(embeddings, index, query, o), token) : null;
        var social = o.SocialCount > 0 && HasAuthors(query.Social)
            ? Task.Run(() => Social(query, o.SocialCount * OverFetch), token) : null;
        var trending = o.TrendingCount > 0 ? Trending(query.RegionCode, query.LanguageCode, o.TrendingCount * OverFetch, token) : null;
        var fresh = o.FreshCount > 0 ? Task.Run(() => Fresh(query.LanguageCode, o.FreshCount * OverFetch), token) : null;

        var capacity = Math.Min(o.MaxCandidates, annCount + popularCount + o.ItemToItemCount + o.SocialCount + o.TrendingCount + o.FreshCount);
        var set = new CandidateSet(Math.Max(1, capacity));
        var annIds = ArrayPool<int>.Shared.Rent(Math.Max(1, annCount));
        var annScores = ArrayPool<float>.Shared.Rent(Math.Max(1, annCount));
        var popularIds = ArrayPool<int>.Shared.Rent(Math.Max(1, popularCount));
        Dictionary<int, int>? positions = null;
        var merging = false;
        try
        {
            var annFound = 0;
            if (annCount > 0)
            {
                var vector = query.QueryVector.Span;
                annFound = index is not null
                    ? index.Search(vector, annCount, Math.Max(o.HnswEfSearch, annCount), new EligibilityItemFilter(query.Filter), annIds, annScores)
                    : ExactSearch.Search(embeddings, vector, query.Filter, annIds.AsSpan(0, annCount), annScores.AsSpan(0, annCount));
            }
            var popularTaken = popularCount > 0
                ? popular.Take(popularCount, query.Filter, query.LanguageCode, query.RegionCode, popularIds.AsSpan(0, popularCount)) : 0;

            await WaitForSources(token, cancellationToken, itemToItem, social, trending, fresh).ConfigureAwait(false);

            // The merge is synchronous: the thread it runs on lends its dictionary (taken after the await, never across it).
            positions = t_positions ??= new Dictionary<int, int>(2048);
            positions.Clear();
            merging = true; // from here each side source's buffer is returned by its Merge

            // Merge in priority order. ANN results passed the filter inside the search.
            for (var i = 0; i < annFound && set.Count < capacity; i++)
            {
                positions[annIds[i]] = set.Count;
                set.Add(annIds[i], annScores[i], CandidateSource.Ann);
            }
            Merge(set, capacity, positions, itemToItem, o.ItemToItemCount, CandidateSource.ItemToItem, query, embeddings, "item2item");
            Merge(set, capacity, positions, social, o.SocialCount, CandidateSource.Social, query, embeddings, "social");
            Merge(set, capacity, positions, trending, o.TrendingCount, CandidateSource.Trending, query, embeddings, "trending");
            Merge(set, capacity, positions, fresh, o.FreshCount, CandidateSource.Fresh, query, embeddings, "fresh");
            MergeItems(set, capacity, positions, popularIds.AsSpan(0, popularTaken), popularCount, CandidateSource.Popular, query, embeddings);
            return set;
        }
        catch
        {
            set.Dispose();
            if (!merging)
            {
                Release(itemToItem);
                Release(social);
                Release(trending);
                Release(fresh);
            }
            throw;
        }
        finally
        {
            positions?.Clear();
            ArrayPool<int>.Shared.Return(annIds);
            ArrayPool<float>.Shared.Return(annScores);
            ArrayPool<int>.Shared.Return(popularIds);
        }
    }

    private static bool HasAuthors(Catalog.SocialContext social) =>
        social.Friends.Length + social.FollowedAuthors.Length + social.GroupPeers.Length > 0;

    /// <summary>Waits for the side sources until the source timeout; only the request's own cancellation throws.</summary>
    private static async Task WaitForSources(CancellationToken timeout, CancellationToken request, params Task<SourceOutput>?[] tasks)
    {
        foreach (var task in tasks)
        {
            if (task is null) continue;
            try
            {
                await task.WaitAsync(timeout).ConfigureAwait(false);
            }
            catch (Exception) when (!request.IsCancellationRequested)
            {
                // Late or failed: Merge logs it and leaves it out.
            }
        }
        request.ThrowIfCancellationRequested();
    }

    private void Merge(CandidateSet set, int capacity, Dictionary<int, int> positions, Task<SourceOutput>? task, int quota,
        CandidateSource source, CandidateQuery query, ItemEmbeddings embeddings, string name)
    {
        if (task is null) return;
        if (!task.IsCompletedSuccessfully)
        {
            if (task.IsFaulted) LogSourceFailed(task.Exception!.GetBaseException(), name);
            else LogSourceTimedOut(name, options.Value.SourceTimeoutMilliseconds);
            Release(task);
            return;
        }
        var output = task.Result;
        try
        {
            MergeItems(set, capacity, positions, output.Items.AsSpan(0, output.Count), quota, source, query, embeddings);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(output.Items);
        }
    }

    private static void MergeItems(CandidateSet set, int capacity, Dictionary<int, int> positions, ReadOnlySpan<int> items, int quota,
        CandidateSource source, CandidateQuery query, ItemEmbeddings embeddings)
    {
        var vector = query.QueryVector.Span;
        var taken = 0;
        foreach (var item in items)
        {
            if (taken == quota) break;
            if (positions.TryGetValue(item, out var position))
            {
                if (position < 0 || (set.Sources[position] & source) != 0) continue;
                set.AddSource(position, source);
                taken++;
                continue;
            }
            if (set.Count == capacity) continue; // full: later items can still add flags to existing candidates
            if (!query.Filter.IsEligible(item))
            {
                positions[item] = -1;
                continue;
            }
            var similarity = vector.IsEmpty || (uint)item >= (uint)embeddings.Count ? 0f : TensorPrimitives.Dot(embeddings.Vector(item), vector);
            positions[item] = set.Count;
            set.Add(item, similarity, source);
            taken++;
        }
    }

    /// <summary>Returns a side source's buffer to the pool once it completes, if it has not yet.</summary>
    private static void Release(Task<SourceOutput>? task)
    {
        if (task is null) return;
        if (task.IsCompleted)
        {
            if (task.IsCompletedSuccessfully) ArrayPool<int>.Shared.Return(task.Result.Items);
            else _ = task.Exception; // observed
            return;
        }
        task.ContinueWith(static t =>
        {
            if (t.IsCompletedSuccessfully) ArrayPool<int>.Shared.Return(t.Result.Items);
            else _ = t.Exception;
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Neighbours of the user's last few items, interleaved seed by seed so the quota takes the best of each.</summary>
    private static SourceOutput ItemToItem(ItemEmbeddings embeddings, HnswIndex? index, CandidateQuery query, RetrievalOptions o)
    {
        var seeds = query.RecentItems.Span[..Math.Min(o.ItemToItemSeeds, query.RecentItems.Length)];
        var wanted = o.ItemToItemCount * OverFetch;
        var perSeed = (wanted + seeds.Length - 1) / seeds.Length;
        var output = ArrayPool<int>.Shared.Rent(perSeed * seeds.Length);
        var ids = ArrayPool<int>.Shared.Rent(perSeed * seeds.Length);
        var scores = ArrayPool<float>.Shared.Rent(perSeed);
        var counts = ArrayPool<int>.Shared.Rent(seeds.Length);
        try
        {
            for (var s = 0; s < seeds.Length; s++)
            {
                var seed = seeds[s];
                counts[s] = 0;
                if ((uint)seed >= (uint)embeddings.Count) continue;
                var found = ids.AsSpan(s * perSeed, perSeed);
                counts[s] = index is not null
                    ? index.Search(embeddings.Vector(seed), perSeed, Math.Max(64, perSeed), new EligibilityItemFilter(query.Filter), found, scores)
                    : ExactSearch.Search(embeddings, embeddings.Vector(seed), query.Filter, found, scores.AsSpan(0, perSeed));
            }
            var n = 0;
            for (var rank = 0; rank < perSeed; rank++)
            {
                for (var s = 0; s < seeds.Length; s++)
                {
                    if (rank < counts[s]) output[n++] = ids[(s * perSeed) + rank];
                }
            }
            return new SourceOutput(output, n);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(ids);
            ArrayPool<float>.Shared.Return(scores);
            ArrayPool<int>.Shared.Return(counts);
        }
    }

    private SourceOutput Social(CandidateQuery query, int wanted)
    {
        var output = ArrayPool<int>.Shared.Rent(wanted);
        var scratch = ArrayPool<float>.Shared.Rent(wanted);
        try
        {
            return new SourceOutput(output, lists.Social(query.Social, SocialItemsPerAuthor, output.AsSpan(0, wanted), scratch));
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    /// <summary>
    /// Trending among users of the request's region when it is known (topped up from the language's list when the
    /// region's is short), else trending in the request's language.
    /// </summary>
    private async Task<SourceOutput> Trending(byte regionCode, byte languageCode, int wanted, CancellationToken cancellationToken)
    {
        var output = ArrayPool<int>.Shared.Rent(wanted);
        try
        {
            var n = 0;
            if (regionCode != Locales.Unknown) n = await featureStore.GetTrendingInRegionAsync(regionCode, output.AsMemory(0, wanted), cancellationToken).ConfigureAwait(false);
            if (n < wanted) n += await featureStore.GetTrendingAsync(languageCode, output.AsMemory(n, wanted - n), cancellationToken).ConfigureAwait(false);
            return new SourceOutput(output, n);
        }
        catch
        {
            ArrayPool<int>.Shared.Return(output);
            throw;
        }
    }

    private SourceOutput Fresh(byte languageCode, int wanted)
    {
        var output = ArrayPool<int>.Shared.Rent(wanted);
        return new SourceOutput(output, lists.Fresh(languageCode, output.AsSpan(0, wanted)));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Retrieval for embeddings {Version} uses the exact scan: the HNSW index is not built yet")]
    private partial void LogExactServes(string version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Candidate source {Source} missed its {TimeoutMs} ms timeout and was left out")]
    private partial void LogSourceTimedOut(string source, int timeoutMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Candidate source {Source} failed and was left out")]
    private partial void LogSourceFailed(Exception exception, string source);
}
