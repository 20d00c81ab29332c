using Microsoft.AspNetCore.Mvc;

namespace RecSys.Api.Contracts;

/// <summary>Query parameters of <c>GET /recommendations</c>. Taken as text and validated by hand so every error names its field.</summary>
public sealed class RecommendationsQuery
{
    /// <summary>The user to recommend for (demo users look like <c>u_42</c>). An unknown user gets a cold-start list, not 404.</summary>
    /// <example>u_42</example>
    [FromQuery(Name = "userId")]
    public string? UserId { get; init; }

    /// <summary>How many items to return, 1 to 100 (default 20).</summary>
    /// <example>20</example>
    [FromQuery(Name = "count")]
    public string? Count { get; init; }

    /// <summary>The caller's device: <c>mobile</c>, <c>desktop</c> or <c>tablet</c>.</summary>
    /// <example>mobile</example>
    [FromQuery(Name = "device")]
    public string? Device { get; init; }

    /// <summary>Region code (for example <c>us</c>, <c>de</c>); defaults to the user's profile.</summary>
    /// <example>us</example>
    [FromQuery(Name = "region")]
    public string? Region { get; init; }

    /// <summary>Language code (for example <c>en</c>, <c>de</c>); defaults to the user's profile.</summary>
    /// <example>en</example>
    [FromQuery(Name = "language")]
    public string? Language { get; init; }

    /// <summary><c>true</c> adds per-item explanations (sources, scores per stage, rank before re-ranking).</summary>
    /// <example>false</example>
    [FromQuery(Name = "explain")]
    public string? Explain { get; init; }

    /// <summary>Admin only (<c>X-Admin-Key</c> header): force the experiment variant <c>experiment/variant</c> (see <c>GET /experiments</c>).</summary>
    /// <example>mmr-lambda/diverse</example>
    [FromQuery(Name = "variant")]
    public string? Variant { get; init; }

    /// <summary>Declared interests as comma-separated category names (at most 10); used for users without history.</summary>
    /// <example>comedy,cars</example>
    [FromQuery(Name = "interests")]
    public string? Interests { get; init; }

    /// <summary>The user's local hour of day, 0 to 23, that the context of a user without history uses (default: now, in the region's time).</summary>
    /// <example>21</example>
    [FromQuery(Name = "hour")]
    public string? Hour { get; init; }
}

/// <summary>A ranked list for one user.</summary>
/// <param name="RequestId" example="0HNQ83IRG2ULP:00000001">Identifies this request in logs and in the impression log.</param>
/// <param name="UserId" example="u_42">The user the list is for.</param>
/// <param name="ModelVersion" example="linear-v0">Version of the ranking model that scored the list.</param>
/// <param name="ColdStart" example="false">True when the user had no history: the list is popular in the user's language and region.</param>
/// <param name="Items">The recommendations, best first.</param>
/// <param name="CandidateCount" example="600">How many candidates retrieval produced for ranking.</param>
/// <param name="Timings">Wall time of each funnel stage in milliseconds.</param>
/// <param name="Degraded">Fallbacks used for this answer: <c>online-store</c>, <c>retrieval</c>, <c>ranker</c>; empty when none.</param>
/// <param name="ExperimentVariant" example="mmr-lambda/diverse">The user's experiment variant as <c>experiment/variant</c>; null when in none.</param>
public sealed record RecommendationsResponse(
    string RequestId,
    string UserId,
    string ModelVersion,
    bool ColdStart,
    IReadOnlyList<RecommendedItemResponse> Items,
    int CandidateCount,
    TimingsResponse Timings,
    IReadOnlyList<string> Degraded,
    string? ExperimentVariant);

/// <summary>One recommended item with its display fields.</summary>
/// <param name="ItemId" example="i_91396">The item's id.</param>
/// <param name="Rank" example="1">Position in the list, from 1.</param>
/// <param name="Score" example="0.9904">The ranker's score (higher is better).</param>
/// <param name="Source" example="ann">The candidate source that found the item: <c>ann</c>, <c>item2item</c>, <c>social</c>, <c>trending</c>, <c>fresh</c> or <c>popular</c>.</param>
/// <param name="Title" example="Secret comedy tips #91396">Display title.</param>
/// <param name="Category" example="comedy">Display category.</param>
/// <param name="ThumbnailUrl" example="https://cdn.recsys.example/thumbs/i_91396.jpg">Display image.</param>
/// <param name="Explanation">Only with <c>explain=true</c>.</param>
public sealed record RecommendedItemResponse(
    string ItemId,
    int Rank,
    float Score,
    string Source,
    string Title,
    string Category,
    string ThumbnailUrl,
    ExplanationResponse? Explanation);

/// <summary>Why an item is in the list.</summary>
/// <param name="Sources">Every candidate source that found the item (empty for a pinned item from outside the candidates).</param>
/// <param name="Scores">The item's score after each stage.</param>
/// <param name="RankBeforeReRanking" example="3">The item's rank in the ranker's order, before the re-ranking rules; null for a pinned item from outside the candidates.</param>
/// <param name="Rules">The re-ranking rules that moved the item (promoted, demoted, inserted), each with why.</param>
/// <param name="Reason" example="Because you liked &quot;Secret comedy tips #91396&quot;">A sentence for people.</param>
public sealed record ExplanationResponse(IReadOnlyList<string> Sources, StageScoresResponse Scores, int? RankBeforeReRanking, IReadOnlyList<RuleEffectResponse> Rules, string Reason);

/// <summary>An item's score after each stage.</summary>
/// <param name="Retrieval" example="0.796">Similarity to the user's query vector (0 for non-personal sources); null when not retrieved.</param>
/// <param name="PreRanker" example="0.41">The pre-ranker model's score for the item's row; null when the model version has no pre-ranker, the ranker failed, or the item was not ranked.</param>
/// <param name="Ranker" example="0.9904">The main ranker's score; null when the ranker failed, the pre-ranker dropped the item's row (it was then ordered below every kept item), or the item was not ranked.</param>
/// <param name="Final" example="0.93">Relevance after re-ranking: the ranker's score scaled to [0, 1] over the re-ranking window, plus boosts, minus demotions.</param>
public sealed record StageScoresResponse(
    float? Retrieval,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)] float? PreRanker,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)] float? Ranker,
    float Final);

/// <summary>A rule that moved an item.</summary>
/// <param name="Rule" example="mmr">The rule's type.</param>
/// <param name="Why" example="diversified against items above it (MMR, lambda 0.8)">What the rule does, with its parameters.</param>
public sealed record RuleEffectResponse(string Rule, string Why);

/// <summary>A running experiment.</summary>
/// <param name="Name" example="mmr-lambda">Unique name.</param>
/// <param name="TrafficShare" example="0.2">Fraction of users in it.</param>
/// <param name="Variants">Its variants.</param>
public sealed record ExperimentResponse(string Name, double TrafficShare, IReadOnlyList<VariantResponse> Variants);

/// <summary>One variant of an experiment.</summary>
/// <param name="Name" example="diverse">Name; <c>experiment/variant</c> is what responses and impressions carry.</param>
/// <param name="Weight" example="1">Relative share within the experiment.</param>
/// <param name="ReRankingRules">The rule types of its chain override; empty when it keeps the default chain.</param>
/// <param name="AnnCount">The variant's ANN candidate count (replaces Retrieval:AnnCount), when it sets one.</param>
/// <param name="PopularCount">The variant's popular candidate count (replaces Retrieval:PopularCount), when it sets one.</param>
/// <param name="ModelVersion">The model version folder that scores the variant's requests, when it sets one (else the served version).</param>
public sealed record VariantResponse(string Name, double Weight, IReadOnlyList<string> ReRankingRules, int? AnnCount, int? PopularCount, string? ModelVersion = null);

/// <summary>Milliseconds spent in each funnel stage.</summary>
/// <param name="UserState" example="0.006">Profile, online history, social context and query vector.</param>
/// <param name="Candidates" example="0.901">Candidate generation, merge and filters.</param>
/// <param name="Features" example="0.371">Feature fetch and assembly.</param>
/// <param name="Ranking" example="0.034">Scoring.</param>
/// <param name="ReRanking" example="0.001">Re-ranking rules.</param>
/// <param name="Total" example="1.324">The whole funnel.</param>
public sealed record TimingsResponse(double UserState, double Candidates, double Features, double Ranking, double ReRanking, double Total);

/// <summary>An item of the catalog.</summary>
/// <param name="ItemId" example="i_5">The item's id.</param>
/// <param name="Title" example="Quiet cars notes #5">Display title.</param>
/// <param name="Category" example="cars">Category.</param>
/// <param name="AuthorId" example="u_6080">The author (a user).</param>
/// <param name="CreatedAt" example="2026-10-15T01:16:48+00:00">When the item was published.</param>
/// <param name="EngagementScore" example="0.4393">Catalog engagement score in [0, 1].</param>
/// <param name="Nsfw" example="false">Not safe for work.</param>
/// <param name="Region" example="de">The item's region.</param>
/// <param name="Language" example="de">The item's language.</param>
/// <param name="ThumbnailUrl" example="https://cdn.recsys.example/thumbs/i_5.jpg">Display image.</param>
public sealed record ItemResponse(
    string ItemId,
    string Title,
    string Category,
    string AuthorId,
    DateTimeOffset CreatedAt,
    float EngagementScore,
    bool Nsfw,
    string Region,
    string Language,
    string ThumbnailUrl);
