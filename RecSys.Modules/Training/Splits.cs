using RecSys.Events;

namespace RecSys.Training;

/// <summary>A positive (user, item) pair: when the user first showed interest and how strongly overall.</summary>
public readonly record struct FeedbackPair(int User, int Item, long FirstUnixSeconds, float Strength);

/// <summary>Training matrix and, per user, the held-out items (empty for users not evaluated).</summary>
public sealed record DataSplit(string Description, InteractionMatrix Train, int[][] TestItems, long? CutUnixSeconds)
{
    public int TestUserCount => TestItems.Count(t => t.Length > 0);
}

/// <summary>Turns events into positive pairs and splits them by time: per user (last fraction held out) or at one global time.</summary>
public static class Splits
{
    /// <summary>
    /// The positive pairs of a dataset, ordered by the time of their first positive event: strengths are summed per
    /// pair with <paramref name="weights"/>; a hide removes the pair (the user said no).
    /// </summary>
    public static List<FeedbackPair> Pairs(InteractionDataset dataset, FeedbackWeights? weights = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        weights ??= FeedbackWeights.Default;
        var index = new Dictionary<long, int>();
        var pairs = new List<FeedbackPair>();
        var hidden = new HashSet<long>();
        foreach (var e in dataset.Events)
        {
            var key = ((long)e.UserIndex * dataset.ItemCount) + e.ItemIndex;
            if (e.Type == EventType.Hide)
            {
                hidden.Add(key);
                continue;
            }
            var w = weights.Of(e.Type);
            if (w <= 0) continue;
            if (index.TryGetValue(key, out var at)) pairs[at] = pairs[at] with { Strength = pairs[at].Strength + w };
            else
            {
                index[key] = pairs.Count;
                pairs.Add(new FeedbackPair(e.UserIndex, e.ItemIndex, e.UnixSeconds, w));
            }
        }
        if (hidden.Count > 0) pairs.RemoveAll(p => hidden.Contains(((long)p.User * dataset.ItemCount) + p.Item));
        return pairs;
    }

    /// <summary>Every positive pair in one matrix (the final model is trained on all data).</summary>
    public static InteractionMatrix Full(InteractionDataset dataset, FeedbackWeights? weights = null) =>
        InteractionMatrix.FromEntries(dataset.UserCount, dataset.ItemCount, Pairs(dataset, weights).Select(p => (p.User, p.Item, p.Strength)).ToList());

    /// <summary>
    /// Per user, the last <paramref name="holdoutFraction"/> of their positive pairs by time (at least one for a user with
    /// two or more) is held out; users with a single pair are trained on only.
    /// </summary>
    public static DataSplit PerUserTemporal(InteractionDataset dataset, double holdoutFraction = 0.2, FeedbackWeights? weights = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (holdoutFraction is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(holdoutFraction), holdoutFraction, "The held-out fraction must be in (0, 1).");
        var byUser = new List<FeedbackPair>[dataset.UserCount];
        foreach (var p in Pairs(dataset, weights)) (byUser[p.User] ??= []).Add(p);
        var train = new List<(int, int, float)>();
        var test = new int[dataset.UserCount][];
        for (var u = 0; u < byUser.Length; u++)
        {
            var list = byUser[u];
            test[u] = [];
            if (list is null) continue;
            var held = list.Count < 2 ? 0 : Math.Max(1, (int)Math.Floor(list.Count * holdoutFraction));
            var cut = list.Count - held;
            for (var k = 0; k < cut; k++) train.Add((u, list[k].Item, list[k].Strength));
            test[u] = list.Skip(cut).Select(p => p.Item).ToArray();
        }
        return new DataSplit($"per-user temporal, last {holdoutFraction:P0} of each user's items held out", InteractionMatrix.FromEntries(dataset.UserCount, dataset.ItemCount, train), test, null);
    }

    /// <summary>
    /// Pairs first seen before <paramref name="cutUnixSeconds"/> train; later ones are held out, for users who have
    /// training pairs (the others have nothing to fold in from and are not evaluated).
    /// </summary>
    public static DataSplit GlobalTimeCut(InteractionDataset dataset, long cutUnixSeconds, FeedbackWeights? weights = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var train = new List<(int, int, float)>();
        var test = new List<int>[dataset.UserCount];
        var hasTrain = new bool[dataset.UserCount];
        foreach (var p in Pairs(dataset, weights))
        {
            if (p.FirstUnixSeconds < cutUnixSeconds)
            {
                train.Add((p.User, p.Item, p.Strength));
                hasTrain[p.User] = true;
            }
            else (test[p.User] ??= []).Add(p.Item);
        }
        var held = new int[dataset.UserCount][];
        for (var u = 0; u < held.Length; u++) held[u] = hasTrain[u] && test[u] is { } t ? [.. t] : [];
        return new DataSplit($"global time cut at {DateTimeOffset.FromUnixTimeSeconds(cutUnixSeconds):u}", InteractionMatrix.FromEntries(dataset.UserCount, dataset.ItemCount, train), held, cutUnixSeconds);
    }

    /// <summary>The time before which the given fraction of events lies (for a global cut such as "last 10% of time-ordered events").</summary>
    public static long QuantileTime(InteractionDataset dataset, double fraction)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (dataset.Events.Length == 0) throw new InvalidOperationException("The dataset has no events.");
        var k = Math.Clamp((int)(dataset.Events.Length * fraction), 0, dataset.Events.Length - 1);
        return dataset.Events[k].UnixSeconds;
    }
}
