using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using RecSys.Api.Contracts;
using RecSys.Api.Hosting;
using RecSys.Events;
using RecSys.Experiments;
using RecSys.Features;
using RecSys.Pipeline;
using RecSys.ReRanking;
using RecSys.Retrieval;

namespace RecSys.Api.Endpoints;

public static class RecommendationsApi
{
    public const int DefaultCount = 20;
    public const int MaxCount = 100;

    public static IEndpointRouteBuilder MapRecommendationsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/recommendations").WithTags("Recommendations");
        group.MapGet("", GetRecommendations)
            .WithName("GetRecommendations")
            .WithSummary("Recommendations for a user")
            .WithDescription("Runs the funnel (user state, candidates, features, ranking, re-ranking) and returns the top items with per-stage timings.")
            .Produces<RecommendationsResponse>(StatusCodes.Status200OK)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    /// <summary>Recommendations for a user.</summary>
    public static async Task<Results<Ok<RecommendationsResponse>, ValidationProblem, ProblemHttpResult>> GetRecommendations(
        [AsParameters] RecommendationsQuery query, RecommendationPipeline pipeline, IImpressionSink impressions, IExperiments experiments, ColdStartQuery coldStart, TimeProvider clock, HttpContext http,
        CancellationToken cancellationToken)
    {
        var errors = Validate(query, out var request, http.TraceIdentifier);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The request has invalid parameters.");
        }
        if (request!.Interests?.FirstOrDefault(i => !coldStart.IsKnownCategory(i)) is { } unknownInterest && pipeline.IsReady)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["interests"] = [$"interests: '{unknownInterest}' is not a catalog category."] },
                title: "The request has invalid parameters.");
        }
        if (request.Variant is { } variant)
        {
            if (!AdminAccess.IsAdmin(http)) return AdminAccess.Forbidden("variant");
            if (experiments.Find(variant) is null)
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["variant"] = [$"variant '{variant}' is not a running experiment/variant; see GET /experiments."] },
                    title: "The request has invalid parameters.");
            }
        }
        if (!pipeline.IsReady)
        {
            http.Response.Headers.RetryAfter = "5";
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "The service is still loading.",
                detail: "The catalog, embeddings or online store are not loaded yet; /health/ready turns healthy when they are.");
        }
        var result = await pipeline.RecommendAsync(request!, cancellationToken);
        impressions.Emit(EventsApi.ToImpression(result, request!, clock.GetUtcNow())); // queued; published in the background
        return TypedResults.Ok(ToResponse(result, request!.Explain));
    }

    internal static Dictionary<string, string[]> Validate(RecommendationsQuery query, out RecommendationRequest? request, string requestId)
    {
        var errors = new Dictionary<string, string[]>();
        request = null;

        var userId = query.UserId?.Trim();
        if (string.IsNullOrEmpty(userId)) errors["userId"] = ["userId is required."];
        else if (userId.Length > 128 || userId.Any(char.IsControl)) errors["userId"] = ["userId must be at most 128 printable characters."];

        var count = DefaultCount;
        if (query.Count is not null && (!int.TryParse(query.Count, out count) || count < 1 || count > MaxCount))
        {
            errors["count"] = [$"count must be an integer from 1 to {MaxCount}."];
        }

        var device = DeviceType.Unknown;
        if (query.Device is not null && !TryParseDevice(query.Device, out device))
        {
            errors["device"] = ["device must be one of: mobile, desktop, tablet."];
        }
        if (query.Region is not null && !IsCode(query.Region)) errors["region"] = ["region must be a code of 2 to 8 letters, for example 'us'."];
        if (query.Language is not null && !IsCode(query.Language)) errors["language"] = ["language must be a code of 2 to 8 letters, for example 'en'."];

        var explain = false;
        if (query.Explain is not null && !bool.TryParse(query.Explain, out explain)) errors["explain"] = ["explain must be true or false."];

        if (query.Variant is not null && (query.Variant.Length is 0 or > 200 || query.Variant.Any(char.IsControl)))
        {
            errors["variant"] = ["variant must be 'experiment/variant', at most 200 printable characters."];
        }

        string[]? interests = null;
        if (query.Interests is not null)
        {
            interests = query.Interests.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (interests.Length is 0 or > 10 || interests.Any(i => i.Length > 64 || i.Any(char.IsControl)))
            {
                errors["interests"] = ["interests must be 1 to 10 comma-separated category names of at most 64 characters."];
            }
        }

        int? localHour = null;
        if (query.Hour is not null)
        {
            if (int.TryParse(query.Hour, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var hour) && hour is >= 0 and <= 23) localHour = hour;
            else errors["hour"] = ["hour must be a local hour of day from 0 to 23."];
        }

        if (errors.Count == 0)
        {
            request = new RecommendationRequest(requestId, userId!, count, device, query.Region?.ToLowerInvariant(), query.Language?.ToLowerInvariant(), explain, query.Variant, interests)
            {
                Hour = localHour,
            };
        }
        return errors;
    }

    private static bool TryParseDevice(string value, out DeviceType device)
    {
        device = value.ToLowerInvariant() switch
        {
            "mobile" => DeviceType.Mobile,
            "desktop" => DeviceType.Desktop,
            "tablet" => DeviceType.Tablet,
            _ => DeviceType.Unknown,
        };
        return device != DeviceType.Unknown;
    }

    private static bool IsCode(string value) => value.Length is >= 2 and <= 8 && value.All(char.IsAsciiLetter);

    internal static RecommendationsResponse ToResponse(RecommendationResult result, bool explain)
    {
        var items = new RecommendedItemResponse[result.Items.Count];
        for (var i = 0; i < items.Length; i++)
        {
            var r = result.Items[i];
            var explanation = explain && r.Explanation is { } e
                ? new ExplanationResponse(SourceNames(r.Sources),
                    new StageScoresResponse(e.FromOutsideCandidates ? null : r.RetrievalScore, float.IsNaN(e.PreRankerScore) ? null : e.PreRankerScore, float.IsNaN(e.RankerScore) ? null : e.RankerScore, r.FinalScore),
                    e.FromOutsideCandidates ? null : r.RankBeforeReRanking,
                    [.. e.Rules.Select(rule => new RuleEffectResponse(rule.Name, rule.Why))], e.Reason)
                : null;
            items[i] = new RecommendedItemResponse(r.Item.Id, r.Rank, r.Score, CandidateSourceNames.Primary(r.Sources), r.Item.Title, r.Item.Category, r.Item.ThumbnailUrl, explanation);
        }
        var t = result.Timings;
        return new RecommendationsResponse(result.RequestId, result.UserId, result.ModelVersion, result.ColdStart, items, result.CandidateCount,
            new TimingsResponse(t.UserState, t.Candidates, t.Features, t.Ranking, t.ReRanking, t.Total), result.Degraded, result.ExperimentVariant);
    }

    private static string[] SourceNames(CandidateSource sources)
    {
        var names = new List<string>(2);
        foreach (var flag in Enum.GetValues<CandidateSource>())
        {
            if (flag != CandidateSource.None && (sources & flag) != 0) names.Add(CandidateSourceNames.Primary(flag));
        }
        return [.. names];
    }
}
