using System.Runtime.CompilerServices;
using Npgsql;
using NpgsqlTypes;

namespace RecSys.Events.Postgres;

/// <summary>
/// The event log in PostgreSQL's <c>event_log</c> table (migration <c>003_event_log.sql</c>): appends are one
/// multi-row insert per call that skips event ids already stored, so re-sends are idempotent; reads stream a time
/// range ordered by (occurred_at, seq), which is the order the trainer replays.
/// </summary>
internal sealed class PostgresEventLog(NpgsqlDataSource dataSource) : IEventLog
{
    public async ValueTask AppendAsync(IReadOnlyList<UserEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0) return;
        await using var command = dataSource.CreateCommand(
            """
            INSERT INTO event_log (event_id, user_id, item_id, event_type, value, request_id, occurred_at, device, region, language)
            SELECT * FROM unnest(@ids, @users, @items, @types, @values, @requests, @times, @devices, @regions, @languages)
            ORDER BY 7
            ON CONFLICT (event_id) DO NOTHING
            """);
        command.Parameters.Add(new NpgsqlParameter("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = events.Select(e => e.EventId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("users", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = events.Select(e => e.UserId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("items", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = events.Select(e => e.ItemId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("types", NpgsqlDbType.Array | NpgsqlDbType.Smallint) { Value = events.Select(e => (short)e.Type).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("values", NpgsqlDbType.Array | NpgsqlDbType.Real) { Value = events.Select(e => e.Value).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("requests", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = events.Select(e => e.RequestId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("times", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = events.Select(e => e.Timestamp.UtcDateTime).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("devices", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = events.Select(e => e.Context?.Device).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("regions", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = events.Select(e => e.Context?.Region).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("languages", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = events.Select(e => e.Context?.Language).ToArray() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async IAsyncEnumerable<UserEvent> ReadAsync(DateTimeOffset fromInclusive, DateTimeOffset toExclusive, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            SELECT event_id, user_id, item_id, event_type, value, request_id, occurred_at, device, region, language
            FROM event_log WHERE occurred_at >= @from AND occurred_at < @to ORDER BY occurred_at, seq
            """);
        command.Parameters.AddWithValue("from", fromInclusive.UtcDateTime);
        command.Parameters.AddWithValue("to", toExclusive.UtcDateTime);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
            var device = Text(7);
            var region = Text(8);
            var language = Text(9);
            yield return new UserEvent(
                reader.GetString(0), reader.GetString(1), reader.GetString(2), (EventType)reader.GetInt16(3),
                reader.IsDBNull(4) ? null : reader.GetFloat(4), Text(5),
                new DateTimeOffset(reader.GetFieldValue<DateTime>(6), TimeSpan.Zero),
                device is null && region is null && language is null ? null : new EventContext(device, region, language));
        }
    }
}
