using System.Reflection;
using Npgsql;

namespace RecSys.Catalog.Postgres;

/// <summary>
/// Applies the numbered scripts of <c>sql/</c> (embedded in this assembly) in order, each in its own transaction with
/// the row that records it in <c>schema_migrations</c>; an advisory lock keeps two migrators from racing.
/// </summary>
internal static class Migrator
{
    private const long LockKey = 0x5265635379734D67; // "RecSysMg"

    public static IReadOnlyList<(string Name, string Sql)> Scripts()
    {
        var assembly = typeof(Migrator).Assembly;
        var scripts = assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith("sql/", StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n => (n["sql/".Length..], Read(assembly, n)))
            .ToList();
        // An empty list means the build could not see ../sql (for example a container build that did not copy it):
        // migrating would then "succeed" with nothing applied.
        return scripts.Count > 0 ? scripts : throw new InvalidOperationException(
            "This build of RecSys embeds no PostgreSQL migrations: sql/*.sql was missing when it was built. Rebuild from a full checkout.");
    }

    private static string Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public static async Task<IReadOnlyList<string>> MigrateAsync(string connectionString, Action<string>? log, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using (var create = new NpgsqlCommand(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())", connection))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_lock({LockKey})", connection))
        {
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }
        try
        {
            var done = new HashSet<string>(StringComparer.Ordinal);
            await using (var read = new NpgsqlCommand("SELECT name FROM schema_migrations", connection))
            await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken)) done.Add(reader.GetString(0));
            }
            var applied = new List<string>();
            foreach (var (name, sql) in Scripts())
            {
                if (done.Contains(name))
                {
                    log?.Invoke($"{name}: already applied");
                    continue;
                }
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                try
                {
                    await using (var run = new NpgsqlCommand(sql, connection, transaction)) await run.ExecuteNonQueryAsync(cancellationToken);
                    await using (var record = new NpgsqlCommand("INSERT INTO schema_migrations (name) VALUES (@name)", connection, transaction))
                    {
                        record.Parameters.AddWithValue("name", name);
                        await record.ExecuteNonQueryAsync(cancellationToken);
                    }
                    await transaction.CommitAsync(cancellationToken);
                }
                catch (PostgresException ex)
                {
                    throw new InvalidOperationException($"Migration {name} failed: {ex.MessageText} (at line {LineOf(sql, ex.Position)}).", ex);
                }
                applied.Add(name);
                log?.Invoke($"{name}: applied");
            }
            return applied;
        }
        finally
        {
            await using var unlock = new NpgsqlCommand($"SELECT pg_advisory_unlock({LockKey})", connection);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    private static int LineOf(string sql, int position) => position <= 0 ? 0 : sql.AsSpan(0, Math.Min(position, sql.Length)).Count('\n') + 1;
}
