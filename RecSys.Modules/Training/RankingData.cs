using RecSys.Catalog;
using RecSys.Events;
using RecSys.Features;
using RecSys.Retrieval;
using RecSys.Training.Baselines;
using RecSys.Training.PointInTime;

namespace RecSys.Training;

/// <summary>How ranking rows are made from an event log.</summary>
public sealed record RankingDataOptions
{
    /// <summary>Rows are made for events at or after this time; earlier events only build state (and train retrieval).</summary>
    public long FromUnixSeconds { get; init; }

    /// <summary>A click (like, dwell) within this many seconds after an impression labels it.</summary>
    public long LabelWindowSeconds { get; init; } = 3600;

    /// <summary>Without impressions: negatives drawn per positive, uniformly from the candidates serving would have generated then.</summary>
    public int NegativesPerPositive { get; init; } = 4;

    /// <summary>The ANN quota of that candidate set (serving's <c>Retrieval:AnnCount</c>).</summary>
    public int CandidatePool { get; init; } = 500;

    /// <summary>The popular quota of that candidate set (serving's <c>Retrieval:PopularCount</c>).</summary>
    public int PopularCount { get; init; } = 100;

    /// <summary>The offline popular list is recomputed after this share of the log has been replayed.</summary>
    public double PopularRefreshFraction { get; init; } = 0.005;

    /// <summary>At most about this many rows (a seeded uniform sample of the eligible events).</summary>
    public int MaxRows { get; init; } = 300_000;

    public int RecentHistoryLength { get; init; } = new FeaturesOptions().RecentHistoryLength;
    public int QueryVectorHistory { get; init; } = new FeaturesOptions().QueryVectorHistory;
    public double TrendHalfLifeHours { get; init; } = new FeaturesOptions().TrendHalfLifeHours;
    public double HotItemTrendScore { get; init; } = new FeaturesOptions().HotItemTrendScore;
    public int Seed { get; init; } = 42;
    public FeatureSchema Schema { get; init; } = FeatureSchema.Default;
}

/// <summary>Ranking rows: features (row-major, <see cref="Schema"/> columns) and labels, in time order.</summary>
public sealed class RankingRows
{
    internal RankingRows(FeatureSchema schema, float[] features, float[] click, float[] like, float[] dwell, long[] times, int[] users, int[] items, bool fromImpressions)
    {
        Schema = schema;
        Features = features;
        Click = click;
        Like = like;
        DwellSeconds = dwell;
        Times = times;
        Users = users;
        Items = items;
        FromImpressions = fromImpressions;
    }

    public FeatureSchema Schema { get; }
    public int Count => Click.Length;
    public int Width => Schema.Count;
    public float[] Features { get; }

    /// <summary>1 when the user clicked (for rows without impressions: interacted with) the item.</summary>
    public float[] Click { get; }
    public float[] Like { get; }
    public float[] DwellSeconds { get; }
    public long[] Times { get; }
    public int[] Users { get; }
    public int[] Items { get; }

    /// <summary>True when rows are logged impressions; false when negatives were sampled from retrieval (no impressions in the data).</summary>
    public bool FromImpressions { get; }

    public ReadOnlySpan<float> Row(int row) => Features.AsSpan(row * Width, Width);

    /// <summary>The rows' columns for another schema whose features are a subset of this one's (same values: same assembler).</summary>
    public float[] Project(FeatureSchema subset)
    {
        ArgumentNullException.ThrowIfNull(subset);
        var map = subset.Names.Select(n => Schema.IndexOf(n) is var c and >= 0 ? c : throw new ArgumentException($"Feature {n} is not in the rows' schema.", nameof(subset))).ToArray();
        var result = new float[Count * map.Length];
        for (var r = 0; r < Count; r++)
        {
            var row = Row(r);
            for (var c = 0; c < map.Length; c++) result[(r * map.Length) + c] = row[map[c]];
        }
        return result;
    }
}

/// <summary>
/// Point-in-time ranking data. Events are replayed in time order through a copy of the online store's state; every
/// row is assembled by the serving <see cref="FeatureAssembler"/> from the state as it was strictly before the row's
/// event (events of the same second are applied after that second's rows), and the query vector is the ALS fold-in
/// of the user's history at that time. Logged impressions become rows labelled by the clicks, likes and dwell that
/// followed them. Data without impressions (MovieLens) is turned into the ranker's own task: at each first positive
/// event the candidate set serving would have generated then is rebuilt (<see cref="Funnel.OfflineCandidates"/>: ANN top
/// <see cref="RankingDataOptions.CandidatePool"/> by the query vector, plus the popular quota, interacted items excluded);
/// when the positive item is in it, it is a row with its real source flags and similarity, and negatives are drawn
/// uniformly from the same set among items the user never interacted with. Rows then look exactly like what the rankers
/// score at serving time (same ann_similarity distribution, same source flags); positives retrieval would have missed
/// are not rows, because the rankers never see such candidates.
/// </summary>
public static class RankingData
{
    /// <summary>The strength of each recent item in a query fold-in (serving knows only which items, not the event kinds).</summary>
    public const float QueryStrength = 1f;

    public static RankingRows Build(InteractionDataset dataset, AlsModel retrieval, RankingDataOptions options)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(retrieval);
        ArgumentNullException.ThrowIfNull(options);
        if (retrieval.Items != dataset.ItemCount) throw new ArgumentException($"The retrieval model has {retrieval.Items} items, the dataset {dataset.ItemCount}.", nameof(retrieval));
        var events = dataset.Events;
        var hasImpressions = events.Any(e => e.Type == EventType.Impression);
        var catalog = new DatasetCatalog(dataset);
        var assembler = new FeatureAssembler(options.Schema, options.HotItemTrendScore);
        var state = new ReplayState(dataset.UserCount, dataset.ItemCount, options.RecentHistoryLength, options.TrendHalfLifeHours);
        var width = options.Schema.Count;
        var k = retrieval.Factors;

        // Which events make rows, and the sampling rate that keeps about MaxRows of them.
        bool Eligible(in Interaction e) => e.UnixSeconds >= options.FromUnixSeconds && (hasImpressions ? e.Type == EventType.Impression : e.IsPositive);
        var eligible = 0;
        foreach (var e in events) if (Eligible(e)) eligible++;
        var perEvent = hasImpressions ? 1 : 1 + options.NegativesPerPositive;
        var keep = Math.Min(1.0, options.MaxRows / (double)Math.Max(1, eligible * perEvent));

        // Labels look ahead: the click, like and dwell events of each (user, item) pair, in time order.
        var outcomes = new Dictionary<long, List<int>>();
        var everInteracted = new HashSet<long>();
        for (var n = 0; n < events.Length; n++)
        {
            var e = events[n];
            var key = ((long)e.UserIndex * dataset.ItemCount) + e.ItemIndex;
            if (e.Type is EventType.Click or EventType.Like or EventType.Dwell)
            {
                if (!outcomes.TryGetValue(key, out var list)) outcomes[key] = list = [];
                list.Add(n);
            }
            if (e.Type != EventType.Impression) everInteracted.Add(key);
        }

        var features = new List<float>();
        var click = new List<float>();
        var like = new List<float>();
        var dwell = new List<float>();
        var times = new List<long>();
        var users = new List<int>();
        var items = new List<int>();
        var rowBuffer = new float[width];
        var query = new float[k];
        var strengths = new float[options.QueryVectorHistory];
        Array.Fill(strengths, QueryStrength);
        var cache = new Dictionary<int, (int Version, float[] Query, bool HasQuery, UserOnlineState State)>();
        var pool = new float[dataset.ItemCount];
        var sampler = new Random(options.Seed);
        var social = SocialContexts(dataset);
        var candidates = hasImpressions ? null : new Funnel.OfflineCandidates(retrieval.ItemFactors, dataset.ItemCount, k, options.CandidatePool, options.PopularCount);
        var popular = new Funnel.PopularRefresher(state, options.PopularCount + options.RecentHistoryLength + 500, Math.Max(1, (long)(events.Length * options.PopularRefreshFraction)));
        var negatives = new List<int>();
        long applied = 0;

        (float[] Query, bool HasQuery, UserOnlineState State) UserAt(int u)
        {
            var version = state.HistoryVersion(u);
            if (cache.TryGetValue(u, out var c) && c.Version == version) return (c.Query, c.HasQuery, c.State);
            var s = state.UserState(u);
            var q = new float[k];
            var recent = s.RecentItems.AsSpan(0, Math.Min(options.QueryVectorHistory, s.RecentItems.Length));
            var has = recent.Length > 0 && retrieval.FoldIn(recent, strengths.AsSpan(0, recent.Length), q);
            cache[u] = (version, q, has, s);
            return (q, has, s);
        }

        void Emit(int u, int item, long t, float ann, CandidateSource source, UserOnlineState s, float clicked, float liked, float dwelt)
        {
            var context = Context(dataset, u, s, social(u), t);
            ReadOnlySpan<int> oneItem = [item];
            ReadOnlySpan<float> oneScore = [ann];
            ReadOnlySpan<CandidateSource> oneSource = [source];
            ReadOnlySpan<ItemStats> oneStats = [state.Stats(item, t)];
            assembler.Assemble(context, catalog, new CandidateFeatureInputs(oneItem, oneScore, oneSource, oneStats), rowBuffer);
            features.AddRange(rowBuffer);
            click.Add(clicked);
            like.Add(liked);
            dwell.Add(dwelt);
            times.Add(t);
            users.Add(u);
            items.Add(item);
        }

        var start = 0;
        while (start < events.Length)
        {
            var end = start;
            while (end < events.Length && events[end].UnixSeconds == events[start].UnixSeconds) end++;
            // Rows of this instant first, from the state of strictly earlier events; then the instant's events.
            for (var n = start; n < end; n++)
            {
                var e = events[n];
                if (!Eligible(e) || sampler.NextDouble() >= keep) continue;
                var (q, hasQuery, s) = UserAt(e.UserIndex);
                var t = e.UnixSeconds;
                if (hasImpressions)
                {
                    float clicked = 0, liked = 0, dwelt = 0;
                    if (outcomes.TryGetValue(((long)e.UserIndex * dataset.ItemCount) + e.ItemIndex, out var list))
                    {
                        foreach (var m in list)
                        {
                            var o = events[m];
                            if (o.UnixSeconds < t || o.UnixSeconds >= t + options.LabelWindowSeconds) continue;
                            if (o.Type == EventType.Click) clicked = 1;
                            else if (o.Type == EventType.Like) liked = 1;
                            else if (o.Type == EventType.Dwell) dwelt += o.Value;
                        }
                    }
                    // Every impression row says "retrieved by ANN": the log does not say which source produced it, and a
                    // source flag that differed between positives and negatives would leak the label. The constant flags
                    // carry nothing, so the rankers leave them out (RankerTraining drops constant columns).
                    var ann = hasQuery ? System.Numerics.Tensors.TensorPrimitives.Dot(q, retrieval.ItemVector(e.ItemIndex)) : 0f;
                    Emit(e.UserIndex, e.ItemIndex, t, ann, CandidateSource.Ann, s, clicked, liked, dwelt);
                }
                else
                {
                    // Only the first positive event of a pair is a row (a rating is one interaction); a user without a
                    // query vector is served the cold-start list, which the funnel evaluation does not score.
                    if (state.HasInteracted(e.UserIndex, e.ItemIndex) || !hasQuery) continue;
                    var u = e.UserIndex;
                    candidates!.Generate(q, hasQuery, i => state.HasInteracted(u, i), popular.At(applied));
                    var at = candidates.PositionOf(e.ItemIndex);
                    if (at < 0) continue;
                    Emit(u, e.ItemIndex, t, candidates.AnnScores[at], candidates.Sources[at], s, 1, e.Type == EventType.Like ? 1 : 0, 0);
                    negatives.Clear();
                    for (var c = 0; c < candidates.Count; c++)
                    {
                        if (!everInteracted.Contains(((long)u * dataset.ItemCount) + candidates.Items[c])) negatives.Add(c);
                    }
                    for (var j = 0; j < Math.Min(options.NegativesPerPositive, negatives.Count); j++)
                    {
                        // A partial Fisher-Yates shuffle picks distinct negatives.
                        var pick = j + sampler.Next(negatives.Count - j);
                        (negatives[j], negatives[pick]) = (negatives[pick], negatives[j]);
                        var c = negatives[j];
                        Emit(u, candidates.Items[c], t, candidates.AnnScores[c], candidates.Sources[c], s, 0, 0, 0);
                    }
                }
            }
            for (var n = start; n < end; n++) state.Apply(events[n]);
            applied += end - start;
            start = end;
        }
        return new RankingRows(options.Schema, [.. features], [.. click], [.. like], [.. dwell], [.. times], [.. users], [.. items], hasImpressions);
    }

    /// <summary>The request context of user <paramref name="u"/> at time <paramref name="t"/> as serving fills it (no device known offline).</summary>
    internal static FeatureContext Context(InteractionDataset dataset, int u, UserOnlineState state, SocialContext social, long t) =>
        Context(dataset.Users[u], dataset.UserIds[u], u, state, social, t);

    internal static FeatureContext Context(UserMetadata meta, string userId, int u, UserOnlineState state, SocialContext social, long t)
    {
        var profile = new UserProfile(u, userId, meta.Age ?? 0, meta.Region ?? "", meta.Language ?? "", true, meta.AvgDwellSeconds ?? 0f);
        return new FeatureContext(profile, state, social, DeviceType.Unknown, Locales.RegionCode(meta.Region), Locales.LanguageCode(meta.Language), DateTimeOffset.FromUnixTimeSeconds(t));
    }

    /// <summary>Each user's social context as the serving graph builds it (sorted arrays), made on first use.</summary>
    internal static Func<int, SocialContext> SocialContexts(InteractionDataset dataset) => SocialContexts(dataset.Social);

    internal static Func<int, SocialContext> SocialContexts(IReadOnlyList<SocialEdge> edges)
    {
        if (edges.Count == 0) return _ => SocialContext.Empty;
        var friends = new Dictionary<int, List<int>>();
        var follows = new Dictionary<int, List<int>>();
        var groups = new Dictionary<int, List<int>>();
        var blocks = new Dictionary<int, List<int>>();
        var members = new Dictionary<int, List<int>>();
        static void Add(Dictionary<int, List<int>> map, int key, int value)
        {
            if (!map.TryGetValue(key, out var list)) map[key] = list = [];
            list.Add(value);
        }
        foreach (var e in edges)
        {
            switch (e.Kind)
            {
                case SocialEdgeKind.Friend:
                    // Mutual whichever way it was written, as the serving graph reads it.
                    Add(friends, e.From, e.To);
                    Add(friends, e.To, e.From);
                    break;
                case SocialEdgeKind.Follow: Add(follows, e.From, e.To); break;
                case SocialEdgeKind.Block: Add(blocks, e.From, e.To); break;
                case SocialEdgeKind.MemberOf:
                    Add(groups, e.From, e.To);
                    Add(members, e.To, e.From);
                    break;
                default: break;
            }
        }
        int[] Sorted(Dictionary<int, List<int>> map, int u) => map.TryGetValue(u, out var list) ? [.. list.Distinct().Order()] : [];
        var cache = new Dictionary<int, SocialContext>();
        return u =>
        {
            if (cache.TryGetValue(u, out var c)) return c;
            var own = Sorted(groups, u);
            int[] peers = [.. own.SelectMany(g => members.TryGetValue(g, out var m) ? m : []).Where(p => p != u).Distinct().Order()];
            c = new SocialContext(Sorted(friends, u), Sorted(follows, u), own, Sorted(blocks, u), peers);
            cache[u] = c;
            return c;
        };
    }
}
