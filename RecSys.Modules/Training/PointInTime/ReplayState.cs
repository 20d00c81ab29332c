using RecSys.Events;
using RecSys.Features;

namespace RecSys.Training.PointInTime;

/// <summary>
/// The online store's state rebuilt by replaying events in time order, with the same rules as the serving store
/// (counters per event type; history of positive items, a click-like-dwell burst on one item counted once; forward-decayed
/// trend score). The builder reads it before applying the events of an instant, so a row sees only strictly earlier events.
/// </summary>
internal sealed class ReplayState(int users, int items, int historyLength, double halfLifeHours)
{
    private readonly int[] _impressions = new int[items];
    private readonly int[] _clicks = new int[items];
    private readonly int[] _likes = new int[items];
    private readonly int[] _shares = new int[items];
    private readonly int[] _hides = new int[items];
    private readonly int[] _dwell = new int[items];
    private readonly double[] _trend = new double[items];
    private readonly int[] _positives = new int[items];
    private readonly long[] _trendAt = new long[items];
    private readonly List<int>?[] _recent = new List<int>?[users]; // oldest first
    private readonly HashSet<int>?[] _interacted = new HashSet<int>?[users];
    private readonly long[] _lastEvent = new long[users];
    private readonly int[] _historyVersion = new int[users];
    private readonly double _halfLifeSeconds = halfLifeHours * 3600;

    public void Apply(in Interaction e)
    {
        var i = e.ItemIndex;
        switch (e.Type)
        {
            case EventType.Impression: _impressions[i]++; break;
            case EventType.Click: _clicks[i]++; break;
            case EventType.Like: _likes[i]++; break;
            case EventType.Share: _shares[i]++; break;
            case EventType.Hide: _hides[i]++; break;
            case EventType.Dwell: _dwell[i] += (int)Math.Clamp(e.Value, 0, 86_400); break;
            default: break;
        }
        if (e.Type is EventType.Impression or EventType.View) return;
        if (e.IsPositive)
        {
            _positives[i]++;
            _trend[i] = Decayed(i, e.UnixSeconds) + 1;
            _trendAt[i] = e.UnixSeconds;
        }
        var u = e.UserIndex;
        (_interacted[u] ??= []).Add(i);
        _lastEvent[u] = Math.Max(_lastEvent[u], e.UnixSeconds);
        var recent = _recent[u] ??= [];
        if (e.IsPositive && (recent.Count == 0 || recent[^1] != i))
        {
            recent.Add(i);
            if (recent.Count > historyLength) recent.RemoveAt(0);
            _historyVersion[u]++;
        }
    }

    public ItemStats Stats(int item, long now) =>
        new(_impressions[item], _clicks[item], _likes[item], _shares[item], _hides[item], _dwell[item], (float)Decayed(item, now));

    /// <summary>Changes whenever the user's history does: a cache key for per-user values such as the query vector.</summary>
    public int HistoryVersion(int user) => _historyVersion[user];

    /// <summary>The user's state as the online store would return it, most recent item first.</summary>
    public UserOnlineState UserState(int user)
    {
        var recent = _recent[user];
        if (recent is null) return UserOnlineState.Empty;
        var items = recent.ToArray();
        Array.Reverse(items);
        return new UserOnlineState(items, _interacted[user] ?? (IReadOnlySet<int>)new HashSet<int>(), _lastEvent[user]);
    }

    /// <summary>
    /// The <paramref name="count"/> items with the most positive events so far, most first (ties: lower index first):
    /// the offline stand-in for the serving popular source, which orders the catalog by engagement.
    /// </summary>
    public int[] MostPopular(int count)
    {
        var top = new Baselines.TopN(Math.Min(count, _positives.Length));
        for (var i = 0; i < _positives.Length; i++)
        {
            if (_positives[i] > 0) top.Push(_positives[i], i);
        }
        var result = new int[top.Count];
        top.Drain(result, new float[result.Length]);
        return result;
    }

    public bool HasInteracted(int user, int item) => _interacted[user]?.Contains(item) == true;

    private double Decayed(int item, long now) => _trend[item] == 0 ? 0 : _trend[item] * Math.Pow(2, -(now - _trendAt[item]) / _halfLifeSeconds);
}
