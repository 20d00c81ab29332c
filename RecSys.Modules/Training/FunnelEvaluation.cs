using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using RecSys.Events;
using RecSys.Features;
using RecSys.Retrieval;
using RecSys.Training.Funnel;
using RecSys.Training.PointInTime;

namespace RecSys.Training;

/// <summary>The sizes of the funnel's stages, as serving configures them (<c>Retrieval:AnnCount</c>, <c>Retrieval:PopularCount</c>, <c>Ranking:PreRankKeep</c>).</summary>
public sealed record FunnelOptions
{
    [Range(1, 5000)]
    public int AnnCount { get; init; } = 500;

    [Range(0, 5000)]
    public int PopularCount { get; init; } = 100;

    [Range(1, 5000)]
    public int PreRankKeep { get; init; } = 200;
}

/// <summary>
/// The funnel's row of the evaluation, with the rankers' AUC on the same candidates (held-out items positive): pooled
/// over every user's candidates, and per user averaged over users with both classes (what ordering within a list
/// depends on; a pooled AUC also counts how scores shift between users), and the candidate stage's recall.
/// </summary>
public sealed record FunnelResult(EvaluationResult Metrics, double PreRankerAuc, double RankerAuc, double CandidateRecall, double MeanCandidates, long CandidateRows)
{
    public double PreRankerUserAuc { get; init; } = double.NaN;
    public double RankerUserAuc { get; init; } = double.NaN;

    /// <summary>Per-user AUC on the candidates the pre-ranker kept, where the ranker's order is the one served.</summary>
    public double PreRankerKeptAuc { get; init; } = double.NaN;
    public double RankerKeptAuc { get; init; } = double.NaN;

    /// <summary>
    /// The same per-user AUCs of plain retrieval's order (the candidates' <c>ann_similarity</c>, the query-vector score)
    /// on all candidates and on the kept ones: what the rankers must add to.
    /// </summary>
    public double RetrievalUserAuc { get; init; } = double.NaN;
    public double RetrievalKeptAuc { get; init; } = double.NaN;
}

/// <summary>
/// The whole funnel measured end to end on an evaluation split. For each evaluated user, at the time of their first
/// held-out event: the events of the training split up to then are replayed (no event of a held-out pair is ever
/// applied, so no feature can see one), the query vector is the fold-in of their recent items, the candidate set is the
/// serving one (<see cref="OfflineCandidates"/>: ANN top <see cref="FunnelOptions.AnnCount"/> plus the popular quota,
/// known items excluded), every candidate's row is filled by the serving <see cref="FeatureAssembler"/>, the pre-ranker
/// keeps <see cref="FunnelOptions.PreRankKeep"/>, the ranker orders them, and the list is scored like the other methods.
/// The networks are evaluated as the exported ONNX models compute (<see cref="FoldedNetwork"/>); a ranker with several
/// heads orders by their sum weighted by <c>rankerWeights</c>, as serving does with the manifest's weights.
/// </summary>
public static class FunnelEvaluation
{
    /// <summary>The dataset without any event of a held-out (user, item) pair: what the funnel's rankers and features may see.</summary>
    public static InteractionDataset TrainingEvents(InteractionDataset dataset, DataSplit split)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(split);
        var held = HeldOut(dataset, split);
        return new InteractionDataset(dataset.Name, dataset.UserIds, dataset.ItemIds,
            dataset.Events.Where(e => !held.Contains(Key(dataset, e.UserIndex, e.ItemIndex))).ToArray(), dataset.Items, dataset.Users) { Social = dataset.Social };
    }

    public static FunnelResult Evaluate(string method, InteractionDataset dataset, DataSplit split, int[] users, AlsModel retrieval, DenseNetwork preRanker, DenseNetwork ranker,
        FunnelOptions funnel, RankingDataOptions features, double fitSeconds = 0, CancellationToken cancellationToken = default, IReadOnlyList<double>? rankerWeights = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(split);
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(retrieval);
        ArgumentNullException.ThrowIfNull(funnel);
        ArgumentNullException.ThrowIfNull(features);
        var watch = Stopwatch.StartNew();
        var training = TrainingEvents(dataset, split);
        var events = training.Events;

        // Each user is served at the time of their first held-out event.
        var evaluated = new HashSet<int>(users);
        var held = HeldOut(dataset, split);
        var at = new Dictionary<int, long>();
        foreach (var e in dataset.Events)
        {
            if (evaluated.Contains(e.UserIndex) && !at.ContainsKey(e.UserIndex) && held.Contains(Key(dataset, e.UserIndex, e.ItemIndex))) at[e.UserIndex] = e.UnixSeconds;
        }
        var order = Enumerable.Range(0, users.Length).OrderBy(n => at.TryGetValue(users[n], out var t) ? t : long.MaxValue).ThenBy(n => n).ToArray();
        var last = events.Length == 0 ? 0 : events[^1].UnixSeconds;

        var schema = features.Schema;
        var width = schema.Count;
        var catalog = new DatasetCatalog(training);
        var assembler = new FeatureAssembler(schema, features.HotItemTrendScore);
        var state = new ReplayState(dataset.UserCount, dataset.ItemCount, features.RecentHistoryLength, features.TrendHalfLifeHours);
        var popular = new PopularRefresher(state, funnel.PopularCount + features.RecentHistoryLength + 500, Math.Max(1, (long)(events.Length * features.PopularRefreshFraction)));
        var candidates = new OfflineCandidates(retrieval.ItemFactors, dataset.ItemCount, retrieval.Factors, funnel.AnnCount, funnel.PopularCount);
        var stages = new FunnelStages(preRanker, ranker, schema.Names.ToList(), funnel.PreRankKeep, rankerWeights);
        var social = RankingData.SocialContexts(training);
        var query = new float[retrieval.Factors];
        var strengths = new float[features.QueryVectorHistory];
        Array.Fill(strengths, RankingData.QueryStrength);

        var lists = new int[users.Length][];
        var excluded = new bool[dataset.ItemCount];
        var preScoresAll = new List<float>();
        var rankerScoresAll = new List<float>();
        var labelsAll = new List<float>();
        var candidateRecall = 0.0;
        double preUserAuc = 0, rankerUserAuc = 0, retrievalUserAuc = 0;
        var aucUsers = 0;
        double preKeptAuc = 0, rankerKeptAuc = 0, retrievalKeptAuc = 0;
        var keptUsers = 0;
        var keptLabels = new float[funnel.PreRankKeep];
        var keptPre = new float[funnel.PreRankKeep];
        var keptRanker = new float[funnel.PreRankKeep];
        var keptAnn = new float[funnel.PreRankKeep];
        long candidateRows = 0;
        float[] rows = [];
        float[] preScores = [];
        float[] rankerScores = [];
        int[] final = [];
        ItemStats[] stats = [];
        var next = 0;
        long applied = 0;
        foreach (var n in order)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var u = users[n];
            var t = at.TryGetValue(u, out var when) ? when : last;
            while (next < events.Length && events[next].UnixSeconds <= t) state.Apply(events[next++]);
            applied = next;
            var s = state.UserState(u);
            var recent = s.RecentItems.AsSpan(0, Math.Min(features.QueryVectorHistory, s.RecentItems.Length));
            var hasQuery = recent.Length > 0 && retrieval.FoldIn(recent, strengths.AsSpan(0, recent.Length), query);
            // Known: the user's training items, and anything else they interacted with in the replayed events (a hide).
            var known = split.Train.RowIndices(u);
            foreach (var i in known) excluded[i] = true;
            foreach (var i in s.InteractedItems) excluded[i] = true;
            candidates.Generate(query, hasQuery, i => excluded[i], popular.At(applied));
            foreach (var i in known) excluded[i] = false;
            foreach (var i in s.InteractedItems) excluded[i] = false;
            var count = candidates.Count;
            if (rows.Length < count * width)
            {
                rows = new float[count * width];
                preScores = new float[count];
                rankerScores = new float[count];
                final = new int[count];
                stats = new ItemStats[count];
            }
            for (var c = 0; c < count; c++) stats[c] = state.Stats(candidates.Items[c], t);
            var context = RankingData.Context(training, u, s, social(u), t);
            assembler.Assemble(context, catalog, new CandidateFeatureInputs(
                System.Runtime.InteropServices.CollectionsMarshal.AsSpan(candidates.Items), System.Runtime.InteropServices.CollectionsMarshal.AsSpan(candidates.AnnScores),
                System.Runtime.InteropServices.CollectionsMarshal.AsSpan(candidates.Sources), stats.AsSpan(0, count)), rows);
            stages.Order(rows.AsSpan(0, count * width), count, preScores, rankerScores, final, rankAll: true);

            var relevant = new HashSet<int>(split.TestItems[u]);
            var first = labelsAll.Count;
            var found = 0;
            for (var c = 0; c < count; c++)
            {
                var label = relevant.Contains(candidates.Items[c]) ? 1f : 0f;
                found += (int)label;
                preScoresAll.Add(preScores[c]);
                rankerScoresAll.Add(rankerScores[c]);
                labelsAll.Add(label);
            }
            candidateRecall += relevant.Count == 0 ? 0 : found / (double)relevant.Count;
            if (found > 0 && found < count)
            {
                var userLabels = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(labelsAll)[first..];
                preUserAuc += Metrics.Auc(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(preScoresAll)[first..], userLabels);
                rankerUserAuc += Metrics.Auc(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(rankerScoresAll)[first..], userLabels);
                retrievalUserAuc += Metrics.Auc(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(candidates.AnnScores), userLabels);
                aucUsers++;
            }
            var kept = Math.Min(funnel.PreRankKeep, count);
            var keptFound = 0;
            for (var j = 0; j < kept; j++)
            {
                var c = final[j];
                keptLabels[j] = relevant.Contains(candidates.Items[c]) ? 1f : 0f;
                keptPre[j] = preScores[c];
                keptRanker[j] = rankerScores[c];
                keptAnn[j] = candidates.AnnScores[c];
                keptFound += (int)keptLabels[j];
            }
            if (keptFound > 0 && keptFound < kept)
            {
                preKeptAuc += Metrics.Auc(keptPre.AsSpan(0, kept), keptLabels.AsSpan(0, kept));
                rankerKeptAuc += Metrics.Auc(keptRanker.AsSpan(0, kept), keptLabels.AsSpan(0, kept));
                retrievalKeptAuc += Metrics.Auc(keptAnn.AsSpan(0, kept), keptLabels.AsSpan(0, kept));
                keptUsers++;
            }
            candidateRows += count;
            var depth = Math.Min(100, count);
            var list = new int[depth];
            for (var j = 0; j < depth; j++) list[j] = candidates.Items[final[j]];
            lists[n] = list;
        }
        var labels = labelsAll.ToArray();
        var metrics = Evaluation.FromLists(method, split, users, lists, dataset.ItemCount, fitSeconds, watch.Elapsed.TotalSeconds);
        return new FunnelResult(metrics, Metrics.Auc(preScoresAll.ToArray(), labels), Metrics.Auc(rankerScoresAll.ToArray(), labels),
            users.Length == 0 ? double.NaN : candidateRecall / users.Length, users.Length == 0 ? 0 : candidateRows / (double)users.Length, candidateRows)
        {
            PreRankerUserAuc = aucUsers == 0 ? double.NaN : preUserAuc / aucUsers,
            RankerUserAuc = aucUsers == 0 ? double.NaN : rankerUserAuc / aucUsers,
            PreRankerKeptAuc = keptUsers == 0 ? double.NaN : preKeptAuc / keptUsers,
            RankerKeptAuc = keptUsers == 0 ? double.NaN : rankerKeptAuc / keptUsers,
            RetrievalUserAuc = aucUsers == 0 ? double.NaN : retrievalUserAuc / aucUsers,
            RetrievalKeptAuc = keptUsers == 0 ? double.NaN : retrievalKeptAuc / keptUsers,
        };
    }

    private static long Key(InteractionDataset dataset, int user, int item) => ((long)user * dataset.ItemCount) + item;

    private static HashSet<long> HeldOut(InteractionDataset dataset, DataSplit split)
    {
        var held = new HashSet<long>();
        for (var u = 0; u < split.TestItems.Length; u++)
        {
            foreach (var i in split.TestItems[u]) held.Add(Key(dataset, u, i));
        }
        return held;
    }
}
