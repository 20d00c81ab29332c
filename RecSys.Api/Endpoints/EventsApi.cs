using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using RecSys.Catalog;
using Microsoft.Extensions.Options;
using RecSys.Events;
using RecSys.Features;
using RecSys.Pipeline;
using RecSys.Retrieval;

namespace RecSys.Api.Endpoints;

public static class EventsApi
{
    private static readonly string[] TypeNames = ["impression", "view", "click", "like", "share", "hide", "dwell"];

    public static IEndpointRouteBuilder MapEventsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/events").WithTags("Events");
        group.MapPost("", PostEvents)
            .WithName("PostEvents")
            .WithSummary("Ingest a batch of user events")
            .WithDescription("Validates every row; a batch with any invalid row is refused whole (400, each bad row's index and reason). "
                + "A valid batch is answered 202 once the bus holds it. Re-sending an eventId is harmless.")
            .Accepts<EventBatchRequest>("application/json")
            .Produces<EventBatchAccepted>(StatusCodes.Status202Accepted)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    /// <summary>Ingest a batch of user events.</summary>
    public static async Task<Results<Accepted<EventBatchAccepted>, ValidationProblem, ProblemHttpResult>> PostEvents(
        HttpContext http, IEventBus bus, ICatalog catalog, IOptions<EventsOptions> options, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!catalog.IsLoaded)
        {
            http.Response.Headers.RetryAfter = "5";
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "The service is still loading.",
                detail: "Events are checked against the catalog, which is not loaded yet; /health/ready turns healthy when it is.");
        }
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: cancellationToken);
        }
        catch (JsonException ex)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [$"The body is not valid JSON: {ex.Message}"] },
                title: "The batch is not valid JSON; nothing was accepted.");
        }
        using (document)
        {
            var errors = Validate(document.RootElement, catalog, options.Value, clock.GetUtcNow(), out var events);
            if (errors.Count > 0)
            {
                return TypedResults.ValidationProblem(errors, title: "The batch has invalid rows; nothing was accepted.");
            }
            try
            {
                await bus.PublishAsync(events, cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "The event bus could not take the batch.",
                    detail: $"Neither Kafka nor the local spool accepted it ({ex.Message}); nothing was accepted, send it again.");
            }
            return TypedResults.Accepted((string?)null, new EventBatchAccepted(events.Count));
        }
    }

    /// <summary>Checks every row; returns errors keyed <c>events[i].field</c> (empty when the batch is valid) and the parsed events.</summary>
    internal static Dictionary<string, string[]> Validate(JsonElement root, ICatalog catalog, EventsOptions options, DateTimeOffset now, out List<UserEvent> events)
    {
        var errors = new Dictionary<string, string[]>();
        events = [];
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("events", out var rows) || rows.ValueKind != JsonValueKind.Array)
        {
            errors["events"] = ["The body must be an object with an 'events' array."];
            return errors;
        }
        var count = rows.GetArrayLength();
        if (count == 0 || count > options.MaxBatchSize)
        {
            errors["events"] = [$"events must hold 1 to {options.MaxBatchSize} rows; it holds {count}."];
            return errors;
        }
        var index = 0;
        foreach (var row in rows.EnumerateArray())
        {
            var e = ValidateRow(row, index, catalog, options, now, errors);
            if (e is not null) events.Add(e);
            index++;
        }
        return errors;
    }

    private static UserEvent? ValidateRow(JsonElement row, int index, ICatalog catalog, EventsOptions options, DateTimeOffset now, Dictionary<string, string[]> errors)
    {
        var prefix = $"events[{index}]";
        var before = errors.Count;
        void Fail(string field, string reason) => errors[$"{prefix}.{field}"] = [$"row {index}: {reason}"];
        if (row.ValueKind != JsonValueKind.Object)
        {
            errors[prefix] = [$"row {index}: must be an object."];
            return null;
        }

        var eventId = Text(row, "eventId", required: true, Fail);
        var userId = Text(row, "userId", required: true, Fail);
        var itemId = Text(row, "itemId", required: true, Fail);
        if (itemId is not null && !catalog.TryGetItem(itemId, out _)) Fail("itemId", $"itemId '{itemId}' is not in the catalog.");

        EventType type = default;
        var typeName = Text(row, "type", required: true, Fail);
        var typeIndex = typeName is null ? -1 : Array.IndexOf(TypeNames, typeName.ToLowerInvariant());
        if (typeName is not null && typeIndex < 0) Fail("type", $"type '{typeName}' must be one of: {string.Join(", ", TypeNames)}.");
        else if (typeIndex >= 0) type = (EventType)typeIndex;

        float? value = null;
        if (row.TryGetProperty("value", out var v) && v.ValueKind != JsonValueKind.Null)
        {
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var d) || !double.IsFinite(d) || d < 0 || d > 86_400) Fail("value", "value must be a number from 0 to 86400.");
            else value = (float)d;
        }
        if (typeIndex == (int)EventType.Dwell && value is null && !errors.ContainsKey($"{prefix}.value")) Fail("value", "value (seconds) is required for dwell events.");

        var requestId = Text(row, "requestId", required: false, Fail);

        DateTimeOffset timestamp = default;
        if (!row.TryGetProperty("timestamp", out var ts) || ts.ValueKind != JsonValueKind.String)
        {
            Fail("timestamp", "timestamp is required, as an ISO 8601 date-time with offset, for example 2026-11-21T10:00:00Z.");
        }
        else if (!DateTimeOffset.TryParse(ts.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out timestamp))
        {
            Fail("timestamp", $"timestamp '{ts.GetString()}' is not an ISO 8601 date-time.");
        }
        else if (timestamp > now.AddSeconds(options.MaxClockSkewSeconds))
        {
            Fail("timestamp", $"timestamp {timestamp:o} is in the future (more than {options.MaxClockSkewSeconds} s ahead of the server).");
        }

        EventContext? context = null;
        if (row.TryGetProperty("context", out var c) && c.ValueKind != JsonValueKind.Null)
        {
            if (c.ValueKind != JsonValueKind.Object)
            {
                Fail("context", "context must be an object with device, region and language.");
            }
            else
            {
                void FailContext(string field, string reason) => Fail($"context.{field}", reason);
                var device = Text(c, "device", required: false, FailContext);
                var region = Text(c, "region", required: false, FailContext);
                var language = Text(c, "language", required: false, FailContext);
                if (device is not null && device.ToLowerInvariant() is not ("mobile" or "desktop" or "tablet")) FailContext("device", "device must be one of: mobile, desktop, tablet.");
                if (region is not null && !IsCode(region)) FailContext("region", "region must be a code of 2 to 8 letters, for example 'us'.");
                if (language is not null && !IsCode(language)) FailContext("language", "language must be a code of 2 to 8 letters, for example 'en'.");
                context = new EventContext(device?.ToLowerInvariant(), region?.ToLowerInvariant(), language?.ToLowerInvariant());
            }
        }

        return errors.Count == before ? new UserEvent(eventId!, userId!, itemId!, type, value, requestId, timestamp.ToUniversalTime(), context) : null;
    }

    /// <summary>A string property of at most 128 printable characters.</summary>
    private static string? Text(JsonElement row, string name, bool required, Action<string, string> fail)
    {
        if (!row.TryGetProperty(name, out var p) || p.ValueKind == JsonValueKind.Null)
        {
            if (required) fail(name, $"{name} is required.");
            return null;
        }
        var s = p.ValueKind == JsonValueKind.String ? p.GetString()!.Trim() : null;
        if (string.IsNullOrEmpty(s) || s.Length > 128 || s.Any(char.IsControl))
        {
            fail(name, $"{name} must be a string of 1 to 128 printable characters.");
            return null;
        }
        return s;
    }

    private static bool IsCode(string value) => value.Length is >= 2 and <= 8 && value.All(char.IsAsciiLetter);

    /// <summary>The impression of one answer: every served item with its position, score and source.</summary>
    internal static ServedImpression ToImpression(RecommendationResult result, RecommendationRequest request, DateTimeOffset now)
    {
        var items = new ServedItem[result.Items.Count];
        for (var i = 0; i < items.Length; i++)
        {
            var r = result.Items[i];
            items[i] = new ServedItem(r.Item.Id, r.Rank, r.Score, CandidateSourceNames.Primary(r.Sources));
        }
        var device = request.Device == DeviceType.Unknown ? null : request.Device.ToString().ToLowerInvariant();
        var context = device is null && request.Region is null && request.Language is null ? null : new EventContext(device, request.Region, request.Language);
        return new ServedImpression(result.RequestId, result.UserId, result.ModelVersion, result.ExperimentVariant, now, items, context);
    }
}

/// <summary>A batch of events (<c>POST /events</c>).</summary>
/// <param name="Events">1 to 1,000 events.</param>
public sealed record EventBatchRequest(IReadOnlyList<EventRequest> Events);

/// <summary>One event as a client sends it.</summary>
/// <param name="EventId">Unique per event, chosen by the client; re-sending the same id changes nothing.</param>
/// <param name="UserId">The user, for example <c>u_42</c>.</param>
/// <param name="ItemId">The item, for example <c>i_1234</c>; must be in the catalog.</param>
/// <param name="Type"><c>impression</c>, <c>view</c>, <c>click</c>, <c>like</c>, <c>share</c>, <c>hide</c> or <c>dwell</c>.</param>
/// <param name="Value">Seconds for <c>dwell</c> (required there), position for <c>impression</c>; 0 to 86400.</param>
/// <param name="RequestId">The <c>requestId</c> of the recommendation answer that showed the item, if any.</param>
/// <param name="Timestamp">When it happened (ISO 8601 with offset); at most 5 minutes in the future.</param>
/// <param name="Context">Where it happened.</param>
public sealed record EventRequest(string EventId, string UserId, string ItemId, string Type, double? Value, string? RequestId, DateTimeOffset Timestamp, EventContextRequest? Context);

/// <summary>Where an event happened.</summary>
/// <param name="Device"><c>mobile</c>, <c>desktop</c> or <c>tablet</c>.</param>
/// <param name="Region">Region code, for example <c>us</c>.</param>
/// <param name="Language">Language code, for example <c>en</c>.</param>
public sealed record EventContextRequest(string? Device, string? Region, string? Language);

/// <summary>The answer to an accepted batch.</summary>
/// <param name="Accepted">How many events the bus now holds.</param>
public sealed record EventBatchAccepted(int Accepted);
