using System.Text.Json;
using Dapper;
using Npgsql;

namespace RecSys.Catalog.Postgres;

/// <summary>
/// <see cref="IModelRegistry"/> over <c>model_registry</c>. Activation runs in one transaction under an advisory lock
/// per name, so concurrent activations serialise instead of tripping the one-active-per-name index.
/// </summary>
internal sealed class PostgresModelRegistry(string connectionString) : IModelRegistry
{
    private sealed record Row(string name, string version, string path, string metrics, string status, DateTime created_at);

    private const string Columns = "name, version, path, metrics::text AS metrics, status, created_at";

    public async Task<RegisteredModel> RegisterAsync(string name, string version, string path, IReadOnlyDictionary<string, double> metrics, CancellationToken cancellationToken)
    {
        Check(name, version);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(metrics);
        // jsonb holds no NaN or infinity: a metric that could not be computed is left out rather than stored as a lie.
        var finite = metrics.Where(kv => double.IsFinite(kv.Value)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        await using var connection = await OpenAsync(cancellationToken);
        var row = await connection.QuerySingleAsync<Row>(new CommandDefinition(
            $"""
            INSERT INTO model_registry (name, version, path, metrics) VALUES (@name, @version, @path, CAST(@metrics AS jsonb))
            ON CONFLICT (name, version) DO UPDATE SET path = excluded.path, metrics = excluded.metrics
            RETURNING {Columns}
            """, new { name, version, path, metrics = JsonSerializer.Serialize(finite) }, cancellationToken: cancellationToken));
        return ToModel(row);
    }

    public async Task<RegisteredModel> ActivateAsync(string name, string version, CancellationToken cancellationToken)
    {
        Check(name, version);
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_xact_lock(hashtext('model_registry:' || @name))", new { name }, transaction, cancellationToken: cancellationToken));
        var exists = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT EXISTS (SELECT 1 FROM model_registry WHERE name = @name AND version = @version)", new { name, version }, transaction, cancellationToken: cancellationToken));
        if (!exists) throw new KeyNotFoundException($"Model '{name}' has no registered version '{version}'.");
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE model_registry SET status = 'retired' WHERE name = @name AND status = 'active' AND version <> @version", new { name, version }, transaction, cancellationToken: cancellationToken));
        var row = await connection.QuerySingleAsync<Row>(new CommandDefinition(
            $"UPDATE model_registry SET status = 'active' WHERE name = @name AND version = @version RETURNING {Columns}", new { name, version }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return ToModel(row);
    }

    public async Task<IReadOnlyList<RegisteredModel>> ListAsync(string? name, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(
            $"SELECT {Columns} FROM model_registry WHERE @name::text IS NULL OR name = @name ORDER BY created_at DESC, name, version DESC",
            new { name }, cancellationToken: cancellationToken));
        return rows.Select(ToModel).ToList();
    }

    public async Task<RegisteredModel?> GetActiveAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        await using var connection = await OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            $"SELECT {Columns} FROM model_registry WHERE name = @name AND status = 'active'", new { name }, cancellationToken: cancellationToken));
        return row is null ? null : ToModel(row);
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private static void Check(string name, string version)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(version);
    }

    private static RegisteredModel ToModel(Row row) => new(row.name, row.version, row.path,
        JsonSerializer.Deserialize<Dictionary<string, double>>(row.metrics) ?? [], row.status,
        new DateTimeOffset(DateTime.SpecifyKind(row.created_at, DateTimeKind.Utc)));
}
