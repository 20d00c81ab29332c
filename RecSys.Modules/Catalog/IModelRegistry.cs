namespace RecSys.Catalog;

/// <summary>Lifecycle of a registered model version: <c>candidate</c> when written, <c>active</c> when chosen (one per name), <c>retired</c> when replaced, <c>rejected</c> when refused.</summary>
public static class ModelStatus
{
    public const string Candidate = "candidate";
    public const string Active = "active";
    public const string Retired = "retired";
    public const string Rejected = "rejected";
}

/// <summary>One version of a named model in the registry: where its files are and what it measured.</summary>
public sealed record RegisteredModel(string Name, string Version, string Path, IReadOnlyDictionary<string, double> Metrics, string Status, DateTimeOffset CreatedAt);

/// <summary>
/// The model registry (PostgreSQL table <c>model_registry</c>, migration <c>004_model_registry.sql</c>): which model
/// versions exist, where they were written, their metrics, and which one is active for each name.
/// </summary>
public interface IModelRegistry
{
    /// <summary>Records a version as a <see cref="ModelStatus.Candidate"/>; registering the same name and version again replaces its path and metrics and keeps its status.</summary>
    Task<RegisteredModel> RegisterAsync(string name, string version, string path, IReadOnlyDictionary<string, double> metrics, CancellationToken cancellationToken);

    /// <summary>
    /// Makes this version the active one of its name, atomically: the previously active version becomes
    /// <see cref="ModelStatus.Retired"/>. Throws <see cref="KeyNotFoundException"/> when the version is not registered.
    /// </summary>
    Task<RegisteredModel> ActivateAsync(string name, string version, CancellationToken cancellationToken);

    /// <summary>Registered versions, newest first; of one name, or of all when <paramref name="name"/> is null.</summary>
    Task<IReadOnlyList<RegisteredModel>> ListAsync(string? name, CancellationToken cancellationToken);

    /// <summary>The active version of a name, or null.</summary>
    Task<RegisteredModel?> GetActiveAsync(string name, CancellationToken cancellationToken);
}
