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
}

/// <summary>A ranked list for one user.</summary>
/// <param name="RequestId">Identifies this request in logs and in the impression log.</param>
/// <param name="UserId">The user the list is for.</param>
/// <param name="ModelVersion">Version of the ranking model that scored the list.</param>
/// <param name="ColdStart">True when the user had no history: the list is popular in the user's language and region.</param>
/// <param name="Items">The recommendations, best first.</param>
/// <param name="CandidateCount">How many candidates retrieval produced for ranking.</param>
/// <param name="Timings">Wall time of each funnel stage in milliseconds.</param>
/// <param name="Degraded">Fallbacks used for this answer: <c>online-store</c>, <c>retrieval</c>, <c>ranker</c>; empty when none.</param>
public sealed record RecommendationsResponse(
    string RequestId,
    string UserId,
    string ModelVersion,
    bool ColdStart,
    IReadOnlyList<RecommendedItemResponse> Items,
    int CandidateCount,
    TimingsResponse Timings,
    IReadOnlyList<string> Degraded);

/// <summary>One recommended item with its display fields.</summary>
/// <param name="ItemId">The item's id.</param>
/// <param name="Rank">Position in the list, from 1.</param>
/// <param name="Score">The ranker's score (higher is better).</param>
/// <param name="Source">The candidate source that found the item: <c>ann</c>, <c>item2item</c>, <c>social</c>, <c>trending</c>, <c>fresh</c> or <c>popular</c>.</param>
/// <param name="Title">Display title.</param>
/// <param name="Category">Display category.</param>
/// <param name="ThumbnailUrl">Display image.</param>
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
/// <param name="Sources">Every candidate source that found the item.</param>
/// <param name="RetrievalScore">Similarity of the item to the user's query vector.</param>
/// <param name="RankerScore">The ranker's score.</param>
/// <param name="RankBeforeReRanking">The item's rank after ranking, before the re-ranking rules.</param>
public sealed record ExplanationResponse(IReadOnlyList<string> Sources, float RetrievalScore, float RankerScore, int RankBeforeReRanking);

/// <summary>Milliseconds spent in each funnel stage.</summary>
public sealed record TimingsResponse(double UserState, double Candidates, double Features, double Ranking, double ReRanking, double Total);

/// <summary>An item of the catalog.</summary>
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
