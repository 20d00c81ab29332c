namespace RecSys.Events;

/// <summary>One row of the PostgreSQL event log as the trainer reads it: external ids, type, value (null when the client sent none), time.</summary>
public readonly record struct LoggedEvent(string UserId, string ItemId, EventType Type, float? Value, long UnixSeconds);

/// <summary>
/// Reads the PostgreSQL <c>event_log</c> (migration <c>003_event_log.sql</c>) for tools such as the trainer: one
/// streamed query in replay order (<c>occurred_at, seq</c>), optionally cut at a point in time.
/// </summary>
public static class PostgresEventLogReader
{
    /// <summary>Every event with <c>occurred_at &lt; <paramref name="untilExclusive"/></c> (all when null), oldest first, streamed row by row.</summary>
    public static IAsyncEnumerable<LoggedEvent> ReadAsync(string connectionString, DateTimeOffset? untilExclusive, CancellationToken cancellationToken) =>
        Postgres.EventLogRows.ReadAsync(connectionString, untilExclusive, cancellationToken);

    /// <summary>The planner's row estimate of <c>event_log</c> (no scan): for progress, not for logic. 0 when unknown.</summary>
    public static Task<long> EstimateCountAsync(string connectionString, CancellationToken cancellationToken) =>
        Postgres.EventLogRows.EstimateCountAsync(connectionString, cancellationToken);
}
