namespace RecSys.Events;

/// <summary>Where an event happened, as the client reports it.</summary>
public sealed record EventContext(string? Device, string? Region, string? Language);

/// <summary>
/// One event as clients send it (<c>POST /events</c>, Kafka) and as the event log stores it. Ids are external
/// (<c>u_42</c>, <c>i_1234</c>); <see cref="EventId"/> makes re-sends idempotent.
/// </summary>
public sealed record UserEvent(
    string EventId,
    string UserId,
    string ItemId,
    EventType Type,
    float? Value,
    string? RequestId,
    DateTimeOffset Timestamp,
    EventContext? Context);

/// <summary>
/// The append-only event log the trainer reads with point-in-time correctness. Appends are idempotent by
/// <see cref="UserEvent.EventId"/>; reads return events ordered by timestamp.
/// </summary>
public interface IEventLog
{
    ValueTask AppendAsync(IReadOnlyList<UserEvent> events, CancellationToken cancellationToken);

    IAsyncEnumerable<UserEvent> ReadAsync(DateTimeOffset fromInclusive, DateTimeOffset toExclusive, CancellationToken cancellationToken);
}
