using System.ComponentModel.DataAnnotations;

namespace RecSys.Catalog;

/// <summary>
/// The catalog's keys of the <c>Stores</c> section. The PostgreSQL database is <c>ConnectionStrings:Postgres</c>
/// (an Npgsql connection string).
/// </summary>
public sealed class CatalogStoreOptions
{
    public const string SectionName = "Stores";

    /// <summary><c>memory</c> (loaded by the demo seeder, the default) or <c>postgres</c> (loaded from PostgreSQL at start-up, refreshed periodically).</summary>
    [Required, RegularExpression("^(memory|postgres)$", ErrorMessage = "Stores:Catalog must be 'memory' or 'postgres'.")]
    public string Catalog { get; set; } = "memory";

    /// <summary>
    /// How often PostgreSQL is asked whether the catalog or the social graph changed (a cheap fingerprint query); they
    /// are reloaded only when it did. Also the longest a new block takes to apply, in seconds.
    /// </summary>
    [Range(1, 86_400)]
    public double CatalogRefreshSeconds { get; set; } = 10;

    /// <summary><c>none</c> (the default) or <c>postgres</c>: the model registry (<c>model_registry</c> in ConnectionStrings:Postgres) is available to the service (<c>GET /admin/models/registry</c>).</summary>
    [Required, RegularExpression("^(none|postgres)$", ErrorMessage = "Stores:ModelRegistry must be 'none' or 'postgres'.")]
    public string ModelRegistry { get; set; } = "none";

    public bool UsesPostgres => string.Equals(Catalog, "postgres", StringComparison.Ordinal);
}
