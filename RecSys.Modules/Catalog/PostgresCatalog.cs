using Npgsql;
using RecSys.Catalog.Postgres;

namespace RecSys.Catalog;

/// <summary>The PostgreSQL side of the catalog for tools (the <c>migrate</c> and <c>load</c> verbs, tests).</summary>
public static class PostgresCatalog
{
    /// <summary>Names of the numbered migrations shipped with this build, in order.</summary>
    public static IReadOnlyList<string> Migrations => Migrator.Scripts().Select(s => s.Name).ToList();

    /// <summary>Applies the migrations not yet recorded in <c>schema_migrations</c>; returns the ones applied now.</summary>
    public static Task<IReadOnlyList<string>> MigrateAsync(string connectionString, Action<string>? log, CancellationToken cancellationToken) =>
        Migrator.MigrateAsync(connectionString, log, cancellationToken);

    /// <summary>Replaces the catalog tables (categories, users, items, groups, social edges) with this data set in one transaction.</summary>
    public static async Task ImportAsync(string connectionString, CatalogSnapshot snapshot, IReadOnlyList<SocialEdge> edges, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(edges);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await CatalogTables.WriteAsync(connection, snapshot, edges, progress, cancellationToken);
    }

    /// <summary>The catalog snapshot (items, users, categories) and social edges as the service would load them, read once.</summary>
    public static async Task<(CatalogSnapshot Snapshot, IReadOnlyList<SocialEdge> Edges)> ReadAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        var (snapshot, edges) = await CatalogTables.ReadAsync(connection, cancellationToken);
        return (snapshot, edges);
    }

    /// <summary>The model registry in this database (tables from <see cref="MigrateAsync"/>).</summary>
    public static IModelRegistry ModelRegistry(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return new PostgresModelRegistry(connectionString);
    }
}
