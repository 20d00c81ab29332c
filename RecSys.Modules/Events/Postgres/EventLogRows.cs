using System.Runtime.CompilerServices;
using Npgsql;

namespace RecSys.Events.Postgres;

/// <summary>The trainer's read of <c>event_log</c>: one server-side ordered query, rows consumed as they arrive.</summary>
internal static class EventLogRows
{
    public static async IAsyncEnumerable<LoggedEvent> ReadAsync(string connectionString, DateTimeOffset? untilExclusive, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            untilExclusive is null
                ? "SELECT user_id, item_id, event_type, value, occurred_at FROM event_log ORDER BY occurred_at, seq"
                : "SELECT user_id, item_id, event_type, value, occurred_at FROM event_log WHERE occurred_at < @until ORDER BY occurred_at, seq",
            connection) { CommandTimeout = 0 };
        if (untilExclusive is { } until) command.Parameters.AddWithValue("until", until.UtcDateTime);
        await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var user = reader.GetString(0);
            var item = reader.GetString(1);
            var type = reader.GetInt16(2);
            if (type is < (short)EventType.Impression or > (short)EventType.Dwell)
            {
                throw new InvalidDataException($"event_log: event_type {type} of user '{user}', item '{item}' is not a known event type (0..6).");
            }
            float? value = reader.IsDBNull(3) ? null : reader.GetFloat(3);
            var at = new DateTimeOffset(DateTime.SpecifyKind(reader.GetFieldValue<DateTime>(4), DateTimeKind.Utc));
            yield return new LoggedEvent(user, item, (EventType)type, value, at.ToUnixTimeSeconds());
        }
    }

    public static async Task<long> EstimateCountAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = 'event_log'::regclass", connection);
        return await command.ExecuteScalarAsync(cancellationToken) is long n ? n : 0;
    }
}
