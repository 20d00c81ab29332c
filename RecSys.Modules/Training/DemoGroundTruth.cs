using System.Numerics.Tensors;
using RecSys.Catalog;
using RecSys.Demo;
using RecSys.Training.Baselines;

namespace RecSys.Training;

/// <summary>How close a method's top K is to what the demo world's users truly prefer.</summary>
public sealed record GroundTruthResult(string Method, int Users, double OverlapAtK, double NormalizedUtility, int K);

/// <summary>
/// The demo world keeps its hidden preference model, so on it a recommender can be scored against the truth rather
/// than against a sample of clicks: for each user, the utility of every item they have not interacted with at the
/// world's anchor time (taste · item, quality, freshness, follows/friend author, language match: the terms of
/// <c>DemoWorldGenerator.Utility</c>, restated here), the ideal top K by that utility, and the method's top K.
/// Overlap@K = shared items / K; normalised utility = (mean utility of the method's K - mean over all candidates) /
/// (mean of the ideal K - mean over all candidates): 0 is random, 1 is perfect.
/// </summary>
public static class DemoGroundTruth
{
    public static GroundTruthResult Evaluate(DemoWorld world, InteractionMatrix known, IItemScorer scorer, int[] users, int k = 20) =>
        Evaluate(world, known, [scorer], users, k)[0];

    /// <summary>Scores several methods on the same users (the utilities are computed once per user).</summary>
    public static IReadOnlyList<GroundTruthResult> Evaluate(DemoWorld world, InteractionMatrix known, IReadOnlyList<IItemScorer> scorers, int[] users, int k = 20)
    {
        ArgumentNullException.ThrowIfNull(world);
        ArgumentNullException.ThrowIfNull(known);
        ArgumentNullException.ThrowIfNull(scorers);
        ArgumentNullException.ThrowIfNull(users);
        var items = world.Items.Count;
        var d = world.Dimensions;
        var follows = new HashSet<long>();
        var friends = new HashSet<long>();
        foreach (var e in world.Edges)
        {
            if (e.Kind == SocialEdgeKind.Follow) follows.Add(((long)e.From << 32) | (uint)e.To);
            else if (e.Kind == SocialEdgeKind.Friend) friends.Add(((long)e.From << 32) | (uint)e.To);
        }
        // The user-independent part of the utility, and the columns the rest needs, once.
        var anchor = world.Anchor.ToUnixTimeSeconds();
        var itemBase = new float[items];
        var authors = new int[items];
        var languages = new string[items];
        for (var i = 0; i < items; i++)
        {
            var item = world.Items[i];
            var ageDays = (anchor - item.CreatedAt.ToUnixTimeSeconds()) / 86_400.0;
            itemBase[i] = (float)((0.8 * world.ItemQuality[i]) + Math.Exp(-Math.Max(0, ageDays) / 3));
            authors[i] = item.AuthorIndex;
            languages[i] = item.Language;
        }
        var overlap = new double[scorers.Count, users.Length];
        var normalized = new double[scorers.Count, users.Length];
        Parallel.For(0, users.Length, () => (Utility: new float[items], Scores: new float[items]), (n, _, buffers) =>
        {
            var u = users[n];
            var (utility, scores) = buffers;
            var taste = world.UserTastes.AsSpan(u * d, d);
            var language = world.Users[u].Language;
            for (var i = 0; i < items; i++)
            {
                var key = ((long)u << 32) | (uint)authors[i];
                utility[i] = (3f * TensorPrimitives.Dot(taste, world.TrueItemVectors.AsSpan(i * d, d))) + itemBase[i]
                    + (follows.Contains(key) ? 0.7f : 0f) + (friends.Contains(key) ? 0.5f : 0f) + (languages[i] == language ? 0.5f : -0.5f);
            }
            foreach (var i in known.RowIndices(u)) utility[i] = float.NegativeInfinity;
            var ideal = Top(utility, k);
            var candidates = 0;
            var sum = 0.0;
            foreach (var v in utility)
            {
                if (float.IsNegativeInfinity(v)) continue;
                sum += v;
                candidates++;
            }
            var mean = sum / Math.Max(1, candidates);
            var idealMean = ideal.Average(i => (double)utility[i]);
            for (var m = 0; m < scorers.Count; m++)
            {
                scorers[m].Score(u, scores);
                foreach (var i in known.RowIndices(u)) scores[i] = float.NegativeInfinity;
                var ours = Top(scores, k);
                overlap[m, n] = ours.Intersect(ideal).Count() / (double)k;
                normalized[m, n] = idealMean > mean ? (ours.Average(i => (double)utility[i]) - mean) / (idealMean - mean) : 0;
            }
            return buffers;
        }, _ => { });
        return scorers.Select((s, m) => new GroundTruthResult(s.Name, users.Length,
            Enumerable.Range(0, users.Length).Average(n => overlap[m, n]), Enumerable.Range(0, users.Length).Average(n => normalized[m, n]), k)).ToList();
    }

    private static int[] Top(float[] values, int k)
    {
        var top = new TopN(k);
        for (var i = 0; i < values.Length; i++)
        {
            if (!float.IsNegativeInfinity(values[i])) top.Push(values[i], i);
        }
        var ids = new int[top.Count];
        top.Drain(ids, new float[ids.Length]);
        return ids;
    }
}
