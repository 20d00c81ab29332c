namespace RecSys.Ranking;

/// <summary>An input or output of an ONNX model: name, element type (float, int64, ...) and shape (-1 for an open dimension).</summary>
public sealed record OnnxTensorInfo(string Name, string ElementType, IReadOnlyList<long> Shape);

/// <summary>
/// <c>manifest.json</c> of a model version: the feature schema (ordered names) the models expect, the pre-ranker (one
/// score output, optional) and the main ranker, whose named outputs are combined by their weights into the final score.
/// </summary>
public sealed record ModelManifest(string Version, IReadOnlyList<string> Features, PreRankerManifest? PreRanker, RankerManifest Ranker)
{
    /// <summary>The retrieval side of the version (item vectors and the user fold-in); null when it has none.</summary>
    public RetrievalManifest? Retrieval { get; init; }
}

/// <summary>
/// The trained item vectors (files relative to the manifest: <c>RSV1</c> vectors, one item id per line) and the exact
/// user fold-in they were trained with: weighted ALS with confidence 1 + <paramref name="Alpha"/> * strength and L2
/// <paramref name="Regularization"/>, over at most <paramref name="History"/> recent items at <paramref name="Strength"/> each.
/// </summary>
public sealed record RetrievalManifest(string ItemVectors, string ItemIds, int Dimensions, string FoldIn, double Alpha, double Regularization, float Strength, int History)
{
    /// <summary>The saved HNSW index of the item vectors (relative to the version folder), or null: the service then builds it.</summary>
    public string? Index { get; init; }
}

/// <summary>
/// Another module's part of a model version (the trained item vectors): loaded and validated with the ranking models
/// before a swap, published after it, so the models and vectors of one version serve together.
/// </summary>
public interface IModelVersionPart
{
    /// <summary>
    /// Reads and validates this part from <paramref name="versionDirectory"/>. Returns the action that publishes it
    /// (run once the version is swapped in), or null when the version has no such part.
    /// </summary>
    /// <exception cref="ModelRejectedException">The part is corrupt or does not match the manifest; the version is refused.</exception>
    Action? Prepare(string versionDirectory, ModelManifest manifest);
}

/// <summary>The cheap first-stage model: a file relative to the manifest and the output that orders candidates.</summary>
public sealed record PreRankerManifest(string File, string Output = "score");

/// <summary>The main model: a file relative to the manifest and a weight for each output it combines.</summary>
public sealed record RankerManifest(string File, IReadOnlyDictionary<string, double> Outputs);

/// <summary>What the ranker serves now, for <c>GET /admin/models</c>.</summary>
public sealed record RankingModelsStatus(
    string Version,
    string Source,
    DateTimeOffset LoadedAt,
    string OnnxRuntimeVersion,
    string ExecutionProvider,
    IReadOnlyList<string> Features,
    IReadOnlyList<RankingModelInfo> Models,
    int PreRankKeep,
    ModelReloadAttempt? LastReload)
{
    /// <summary>The versions loaded beside the served one because an experiment variant names them, and who names them.</summary>
    public IReadOnlyList<ExtraModelVersionStatus> ExtraVersions { get; init; } = [];
}

/// <summary>A version loaded beside the served one: its folder name, its manifest's version, and the variants that use it.</summary>
public sealed record ExtraModelVersionStatus(string Folder, string Version, string Source, DateTimeOffset LoadedAt, IReadOnlyList<string> RequiredBy);

/// <summary>A model version (a folder of <see cref="RankingOptions.ModelsDirectory"/>) that must be loaded beside the served one.</summary>
/// <param name="Folder">The version folder's name.</param>
/// <param name="RequiredBy">Who needs it, for error messages: <c>experiment 'x' variant 'y'</c>.</param>
public sealed record RequiredModelVersion(string Folder, string RequiredBy);

/// <summary>
/// Other modules' needs for extra model versions (the experiments' variants). The model store loads and validates each
/// at start-up and on every reload; a missing or corrupt one stops the start-up (or refuses the reload) naming who needs it.
/// </summary>
public interface IModelVersionRequirements
{
    IReadOnlyList<RequiredModelVersion> Versions { get; }
}

/// <summary>One loaded model: its role (pre-ranker, ranker), file and signature, and the weights of its combined outputs.</summary>
public sealed record RankingModelInfo(string Role, string File, IReadOnlyList<OnnxTensorInfo> Inputs, IReadOnlyList<OnnxTensorInfo> Outputs, IReadOnlyDictionary<string, double>? OutputWeights, long Batches, long Rows);

/// <summary>The last reload: when, and why it was refused (null when it succeeded).</summary>
public sealed record ModelReloadAttempt(DateTimeOffset At, string? Version, string? Error);

/// <summary>The ranker's models: what is served now, and an atomic reload of the version named in the models folder.</summary>
public interface IRankingModels
{
    RankingModelsStatus Status { get; }

    /// <summary>Loads, validates and warms up the version on disk, then swaps it in; requests in flight finish on the old one.</summary>
    /// <exception cref="ModelRejectedException">The new version is corrupt or does not match its manifest; the old one keeps serving.</exception>
    Task<RankingModelsStatus> ReloadAsync(CancellationToken cancellationToken);
}

/// <summary>A model version refused at load: the message names the file and what was wrong.</summary>
public sealed class ModelRejectedException(string message, Exception? inner = null) : Exception(message, inner);
