using System.Buffers;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RecSys.Catalog;
using RecSys.Experiments;
using RecSys.Features;
using RecSys.Ranking;
using RecSys.ReRanking;
using RecSys.Retrieval;

namespace RecSys.Pipeline;

/// <summary>
/// The request funnel: user state -> candidates -> features -> ranking -> re-ranking -> hydrated list. Each stage is
/// timed; the request has a deadline; a failing stage degrades to its fallback and the result says so.
/// </summary>
public sealed partial class RecommendationPipeline(
    ICatalog catalog,
    ISocialGraph socialGraph,
    IFeatureStore featureStore,
    ItemEmbeddingStore embeddingStore,
    ICandidateGenerator candidateGenerator,
    FeatureAssembler assembler,
    IRanker ranker,
    IReRanker reRanker,
    IExperiments experiments,
    ColdStartQuery coldStartQuery,
    TimeProvider clock,
    IOptions<PipelineOptions> options,
    IOptions<FeaturesOptions> featureOptions,
    ILogger<RecommendationPipeline> logger)
{
    /// <summary>True when every input the funnel needs is loaded.</summary>
    public bool IsReady => catalog.IsLoaded && featureStore.IsLoaded && embeddingStore.Current is not null;

    public async Task<RecommendationResult> RecommendAsync(RecommendationRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var embeddings = embeddingStore.Current;
        if (!IsReady || embeddings is null) throw new ServiceNotReadyException();

        var started = Stopwatch.GetTimestamp();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.Value.DeadlineMilliseconds);
        var token = deadline.Token;
        List<string>? degraded = null;

        // 1. User state: profile, online history and social neighbourhood in parallel, then the query vector.
        catalog.TryGetUser(request.UserId, out var user);
        var history = UserOnlineState.Empty;
        var social = SocialContext.Empty;
        if (user is not null)
        {
            var socialTask = socialGraph.GetContextAsync(user.Index, token);
            try
            {
                history = await featureStore.GetUserStateAsync(user.Index, token);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                Degrade(ref degraded, Degradations.OnlineStore, ex);
            }
            social = await socialTask;
        }
        var queryVector = new float[embeddings.Dimensions];
        // The vector the event consumer stored (read with the state) when it matches these item vectors and this history.
        var personal = history.TryGetQueryVector(embeddings, queryVector)
            || UserEmbedding.FoldIn(embeddings, history.RecentItems, featureOptions.Value.QueryVectorHistory, queryVector);
        var regionCode = Locales.RegionCode(request.Region ?? user?.Region);
        var languageCode = Locales.LanguageCode(request.Language ?? user?.Language);
        // No history: a query vector from context (region, language, declared interests, device, hour of day) that the
        // re-ranking's context rule blends with the popular-in-region candidates.
        var contextual = !personal && coldStartQuery.TryBuild(regionCode, languageCode, request.Interests, request.Device,
            request.Hour ?? Locales.LocalHour(clock.GetUtcNow().ToUnixTimeSeconds(), regionCode), queryVector);
        var afterUser = Stopwatch.GetTimestamp();

        // 2. Candidates, filtered for this user, with the experiment variant's retrieval counts.
        var assignment = request.Variant is { } forced ? experiments.Find(forced) : experiments.Assign(request.UserId);
        var filter = new EligibilityFilter(catalog.Columns, user?.AllowNsfw ?? false, social.BlockedAuthors, history.InteractedItems);
        CandidateSet candidates;
        try
        {
            candidates = await candidateGenerator.GenerateAsync(new CandidateQuery(personal ? queryVector : default, filter, regionCode, languageCode) { RecentItems = history.RecentItems, Social = social, AnnCount = assignment?.AnnCount, PopularCount = assignment?.PopularCount }, token);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Also when the query was already the popular one: a slow online store may have spent the whole deadline
            // in stage 1, and the fallback (without the deadline) must still answer rather than fail the request.
            Degrade(ref degraded, Degradations.Retrieval, ex);
            candidates = await candidateGenerator.GenerateAsync(new CandidateQuery(default, filter, regionCode, languageCode), cancellationToken);
        }
        var afterCandidates = Stopwatch.GetTimestamp();

        using (candidates)
        {
            var n = candidates.Count;
            var modelVersion = assignment?.ModelVersion;
            var rowAssembler = AssemblerFor(ranker.SchemaOf(modelVersion));
            var width = rowAssembler.Schema.Count;
            var stats = ArrayPool<ItemStats>.Shared.Rent(n);
            var rows = ArrayPool<float>.Shared.Rent(Math.Max(1, n * width));
            var scores = ArrayPool<float>.Shared.Rent(Math.Max(1, n));
            var order = ArrayPool<int>.Shared.Rent(Math.Max(1, n));
            var picks = ArrayPool<ReRankPick>.Shared.Rent(Math.Max(1, request.Count));
            // Pre-ranker scores only for explanations: without explain nothing is rented and the ranker computes nothing extra.
            var preScores = request.Explain ? ArrayPool<float>.Shared.Rent(Math.Max(1, n)) : null;
            var rankerScores = request.Explain ? ArrayPool<float>.Shared.Rent(Math.Max(1, n)) : null;
            var usedVersion = modelVersion ?? ranker.ModelVersion;
            try
            {
                // 3. Features: item counters fetched in one call, rows assembled into one buffer.
                try
                {
                    await featureStore.GetItemStatsAsync(candidates.ItemsMemory, stats.AsMemory(0, n), token);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    Degrade(ref degraded, Degradations.OnlineStore, ex);
                    Array.Clear(stats, 0, n);
                }
                var context = new FeatureContext(user, history, social, request.Device, regionCode, languageCode, clock.GetUtcNow());
                rowAssembler.Assemble(context, catalog, new CandidateFeatureInputs(candidates.Items, candidates.Scores, candidates.Sources, stats.AsSpan(0, n)), rows);
                var afterFeatures = Stopwatch.GetTimestamp();

                // 4. Ranking; on failure or timeout the candidates keep their retrieval order.
                try
                {
                    var scoring = new ScoringOptions
                    {
                        ModelVersion = modelVersion,
                        PreRankerScores = preScores is null ? default : preScores.AsMemory(0, n),
                        RankerScores = rankerScores is null ? default : rankerScores.AsMemory(0, n),
                    };
                    usedVersion = await ranker.ScoreAsync(new FeatureMatrix(rows.AsMemory(0, n * width), n, rowAssembler.Schema), scores.AsMemory(0, n), scoring, token);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    Degrade(ref degraded, Degradations.Ranker, ex);
                    candidates.Scores.CopyTo(scores);
                    preScores?.AsSpan(0, n).Fill(float.NaN);
                    rankerScores?.AsSpan(0, n).Fill(float.NaN);
                }
                var keys = ArrayPool<float>.Shared.Rent(Math.Max(1, n));
                ScoreOrder.Descending(scores.AsSpan(0, n), keys.AsSpan(0, n), order.AsSpan(0, n));
                ArrayPool<float>.Shared.Return(keys);
                var afterRanking = Stopwatch.GetTimestamp();

                // 5. Re-ranking: the rule chain (the experiment variant's, else the configured one) over the ranker's top window.
                var trace = request.Explain ? new ReRankTrace() : null;
                var input = new ReRankInput
                {
                    Order = order.AsSpan(0, n), Items = candidates.Items, Scores = scores.AsSpan(0, n), Sources = candidates.Sources,
                    Stats = stats.AsSpan(0, n), Count = request.Count, Columns = catalog.Columns, Embeddings = embeddings,
                    QueryVector = personal || contextual ? queryVector : default, ColdStart = !personal, RegionCode = regionCode, LanguageCode = languageCode, AllowNsfw = user?.AllowNsfw ?? false,
                    BlockedAuthors = social.BlockedAuthors, SeenItems = history.SeenItems, Now = clock.GetUtcNow(),
                };
                var picked = reRanker.ReRank(input, assignment?.ReRanking, picks.AsSpan(0, request.Count), trace);
                var afterReRanking = Stopwatch.GetTimestamp();

                // 6. Hydrate display fields (and explanations, only when asked for).
                var items = new RecommendedItem[picked];
                for (var rank = 0; rank < picked; rank++)
                {
                    var pick = picks[rank];
                    var item = catalog.GetItem(pick.Item);
                    var candidate = pick.Position >= 0 ? order[pick.Position] : -1;
                    var source = candidate >= 0 ? candidates.Sources[candidate] : CandidateSource.None;
                    var rules = trace?.RulesAt(rank);
                    var explanation = rules is null ? null : new ItemExplanation(rules,
                        ExplanationReasons.Reason(item, source, rules, history.RecentItems, social, embeddings, catalog, regionCode, input.Now), candidate < 0,
                        candidate >= 0 && preScores is not null ? preScores[candidate] : float.NaN,
                        candidate >= 0 && rankerScores is not null ? rankerScores[candidate] : float.NaN);
                    items[rank] = candidate >= 0
                        ? new RecommendedItem(item, rank + 1, scores[candidate], source, candidates.Scores[candidate], pick.Position + 1, pick.Score, explanation)
                        : new RecommendedItem(item, rank + 1, pick.Score, source, 0, 0, pick.Score, explanation);
                }
                var finished = Stopwatch.GetTimestamp();

                var timings = new StageTimings(
                    Ms(started, afterUser), Ms(afterUser, afterCandidates), Ms(afterCandidates, afterFeatures),
                    Ms(afterFeatures, afterRanking), Ms(afterRanking, afterReRanking), Ms(started, finished));
                return new RecommendationResult(request.RequestId, request.UserId, usedVersion, !personal, items, n, timings, (IReadOnlyList<string>?)degraded ?? [], assignment?.Label);
            }
            finally
            {
                ArrayPool<ItemStats>.Shared.Return(stats);
                ArrayPool<float>.Shared.Return(rows);
                ArrayPool<float>.Shared.Return(scores);
                ArrayPool<int>.Shared.Return(order);
                ArrayPool<ReRankPick>.Shared.Return(picks);
                if (preScores is not null) ArrayPool<float>.Shared.Return(preScores);
                if (rankerScores is not null) ArrayPool<float>.Shared.Return(rankerScores);
            }
        }
    }

    /// <summary>
    /// The assembler for the schema the model version expects (the default one when it has no preference); one per
    /// schema, cached while the schema lives, so requests of two versions with different schemas do not rebuild it.
    /// </summary>
    private FeatureAssembler AssemblerFor(FeatureSchema? schema)
    {
        if (schema is null || ReferenceEquals(schema, assembler.Schema)) return assembler;
        if (_modelAssemblers.TryGetValue(schema, out var cached)) return cached;
        return _modelAssemblers.GetValue(schema, s => new FeatureAssembler(s, featureOptions.Value.HotItemTrendScore));
    }

    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<FeatureSchema, FeatureAssembler> _modelAssemblers = new();

    private void Degrade(ref List<string>? degraded, string what, Exception ex)
    {
        degraded ??= new List<string>(2);
        if (!degraded.Contains(what)) degraded.Add(what);
        LogDegraded(what, ex.GetType().Name, ex.Message);
    }

    private static double Ms(long from, long to) => Math.Round(Stopwatch.GetElapsedTime(from, to).TotalMilliseconds, 3);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Degraded {Stage}: {ErrorType}: {Error}")]
    private partial void LogDegraded(string stage, string errorType, string error);
}

/// <summary>Thrown when a request arrives before the models, index and stores are loaded.</summary>
public sealed class ServiceNotReadyException() : InvalidOperationException("The service is still loading its catalog, embeddings and online store.");
