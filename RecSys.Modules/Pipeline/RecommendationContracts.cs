using RecSys.Catalog;
using RecSys.Features;
using RecSys.ReRanking;
using RecSys.Retrieval;

namespace RecSys.Pipeline;

/// <summary>One recommendation request, already validated by the API.</summary>
public sealed record RecommendationRequest(
    string RequestId,
    string UserId,
    int Count,
    DeviceType Device = DeviceType.Unknown,
    string? Region = null,
    string? Language = null,
    bool Explain = false,
    string? Variant = null,
    IReadOnlyList<string>? Interests = null)
{
    /// <summary>The user's local hour of day (0 to 23) the cold-start context uses instead of the request time's in the user's region.</summary>
    public int? Hour { get; init; }
}

/// <summary>Wall time of each funnel stage, in milliseconds.</summary>
public sealed record StageTimings(double UserState, double Candidates, double Features, double Ranking, double ReRanking, double Total);

/// <summary>One recommended item with the scores that placed it.</summary>
public sealed record RecommendedItem(
    Item Item,
    int Rank,
    float Score,
    CandidateSource Sources,
    float RetrievalScore,
    int RankBeforeReRanking,
    float FinalScore = 0,
    ItemExplanation? Explanation = null);

/// <summary>Only with <c>explain=true</c>: the rules that moved the item and a sentence saying why it is there.</summary>
/// <param name="FromOutsideCandidates">True when a rule (a pin) brought the item in: it has no retrieval or ranker score and no rank before re-ranking.</param>
/// <param name="PreRankerScore">The pre-ranker model's score of the item's row; NaN when the version has no pre-ranker, the ranker failed, or a pin brought the item in.</param>
/// <param name="RankerScore">The main ranker's score of the item's row; NaN when the ranker failed, the pre-ranker dropped the row, or a pin brought the item in.</param>
public sealed record ItemExplanation(IReadOnlyList<RuleDescription> Rules, string Reason, bool FromOutsideCandidates, float PreRankerScore = float.NaN, float RankerScore = float.NaN);

/// <summary>The funnel's answer.</summary>
public sealed record RecommendationResult(
    string RequestId,
    string UserId,
    string ModelVersion,
    bool ColdStart,
    IReadOnlyList<RecommendedItem> Items,
    int CandidateCount,
    StageTimings Timings,
    IReadOnlyList<string> Degraded,
    string? ExperimentVariant = null);

/// <summary>Names of the degradations a response can report.</summary>
public static class Degradations
{
    /// <summary>The online store failed: default (empty) user history and item counters were used.</summary>
    public const string OnlineStore = "online-store";

    /// <summary>Personal retrieval failed: popular items were used as candidates.</summary>
    public const string Retrieval = "retrieval";

    /// <summary>The ranker failed or ran out of time: candidates kept their retrieval order.</summary>
    public const string Ranker = "ranker";
}
