using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RecSys.Features;
using RecSys.Ranking.Batching;
using RecSys.Ranking.Onnx;

namespace RecSys.Ranking.TwoStage;

/// <summary>
/// Holds the served <see cref="RankingModelSet"/> and swaps it atomically. The models folder either names a version
/// (<c>current</c> holds a folder name whose <c>manifest.json</c> is read) or holds a <c>manifest.json</c>; when it has
/// neither, the built-in <see cref="DefaultModels"/> serve. A new version is loaded, validated against its manifest and
/// warmed up before the swap; a refused version leaves the old one serving.
/// Beside the served version it holds the extra versions that experiment variants name
/// (<see cref="IModelVersionRequirements"/>): each is a folder of the models directory, loaded and validated at start-up
/// and again on every reload, swapped together with the served one. Each version has its own models and batchers, so a
/// batch never mixes rows of two versions.
/// </summary>
internal sealed partial class ModelStore : IRankingModels, IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    private readonly RankingOptions _options;
    private readonly ILogger<ModelStore> _logger;
    private readonly ILoggerFactory _loggers;
    private readonly Lock _initialLoad = new();
    private readonly SemaphoreSlim _reloads = new(1, 1);
    private RankingModelSet? _current;
    private OnnxRuntime? _runtime;
    private ModelReloadAttempt? _lastReload;
    private bool _cudaUnavailable;

    private readonly IModelVersionPart[] _parts;
    private readonly IModelVersionRequirements[] _requirements;
    private Dictionary<string, ExtraVersion> _extras = new(StringComparer.Ordinal);

    /// <summary>An extra version: its set and who needs it.</summary>
    private sealed record ExtraVersion(RankingModelSet Set, string[] RequiredBy);

    public ModelStore(IOptions<RankingOptions> options, ILoggerFactory loggers, IEnumerable<IModelVersionPart>? parts = null, IEnumerable<IModelVersionRequirements>? requirements = null)
    {
        _parts = parts?.ToArray() ?? [];
        _requirements = requirements?.ToArray() ?? [];
        _options = options.Value;
        _loggers = loggers;
        _logger = loggers.CreateLogger<ModelStore>();
    }

    /// <summary>The served set, loading it on first use (the host's start-up does that first, so errors stop the start).</summary>
    public RankingModelSet Current
    {
        get
        {
            var current = Volatile.Read(ref _current);
            if (current is not null) return current;
            lock (_initialLoad)
            {
                if (_current is null)
                {
                    var (loaded, publish, extras) = LoadAll();
                    Volatile.Write(ref _extras, extras);
                    Volatile.Write(ref _current, loaded);
                    foreach (var p in publish) p();
                    LogLoaded(_logger, loaded.Version, loaded.Source, loaded.Ranker.Model.ExecutionProvider, _runtime!.Version);
                }
                return _current;
            }
        }
    }

    /// <summary>A lease on the served set; the caller must <see cref="RankingModelSet.Release"/> it.</summary>
    public RankingModelSet Acquire()
    {
        while (true)
        {
            var set = Current;
            if (set.TryAcquire()) return set;
        }
    }

    /// <summary>A lease on the extra version in folder <paramref name="folder"/> (null: the served set).</summary>
    /// <exception cref="InvalidOperationException">No variant named that version, so it was never loaded.</exception>
    public RankingModelSet Acquire(string? folder)
    {
        if (folder is null) return Acquire();
        _ = Current;
        while (true)
        {
            if (!Volatile.Read(ref _extras).TryGetValue(folder, out var extra))
            {
                throw new InvalidOperationException($"Model version '{folder}' is not loaded: only versions that an experiment variant names are loaded beside the served one.");
            }
            if (extra.Set.TryAcquire()) return extra.Set;
        }
    }

    /// <summary>The schema of the extra version in <paramref name="folder"/>, or the served one's for null or an unknown folder.</summary>
    public FeatureSchema SchemaOf(string? folder) =>
        folder is not null && Volatile.Read(ref _extras).TryGetValue(folder, out var extra) ? extra.Set.Schema : Current.Schema;

    public RankingModelsStatus Status
    {
        get
        {
            var set = Current;
            var models = new List<RankingModelInfo>(2);
            foreach (var stage in new[] { set.Pre, set.Ranker })
            {
                if (stage is null) continue;
                var (batches, rows) = stage.Batcher.Counters;
                models.Add(new RankingModelInfo(stage.Role, stage.File, stage.Model.Inputs, stage.Model.Outputs,
                    stage.OutputNames.Zip(stage.Weights).ToDictionary(p => p.First, p => p.Second), batches, rows));
            }
            return new RankingModelsStatus(set.Version, set.Source, set.LoadedAt, _runtime!.Version, set.Ranker.Model.ExecutionProvider,
                set.Schema.Names.ToList(), models, _options.PreRankKeep, Volatile.Read(ref _lastReload))
            {
                ExtraVersions = [.. Volatile.Read(ref _extras).OrderBy(e => e.Key, StringComparer.Ordinal)
                    .Select(e => new ExtraModelVersionStatus(e.Key, e.Value.Set.Version, e.Value.Set.Source, e.Value.Set.LoadedAt, e.Value.RequiredBy))],
            };
        }
    }

    public async Task<RankingModelsStatus> ReloadAsync(CancellationToken cancellationToken)
    {
        await _reloads.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _ = Current; // the first load, if it has not happened
            RankingModelSet fresh;
            List<Action> publish;
            Dictionary<string, ExtraVersion> extras;
            try
            {
                (fresh, publish, extras) = await Task.Run(LoadAll, cancellationToken).ConfigureAwait(false);
            }
            catch (ModelRejectedException ex)
            {
                Volatile.Write(ref _lastReload, new ModelReloadAttempt(DateTimeOffset.UtcNow, null, ex.Message));
                LogRefused(_logger, Current.Version, ex.Message);
                throw;
            }
            var oldExtras = Interlocked.Exchange(ref _extras, extras);
            var old = Interlocked.Exchange(ref _current, fresh);
            old?.Retire();
            foreach (var extra in oldExtras.Values) extra.Set.Retire();
            foreach (var p in publish) p();
            Volatile.Write(ref _lastReload, new ModelReloadAttempt(DateTimeOffset.UtcNow, fresh.Version, null));
            LogSwapped(_logger, old?.Version ?? "(none)", fresh.Version, fresh.Source);
            return Status;
        }
        finally
        {
            _reloads.Release();
        }
    }

    /// <summary>
    /// Loads the version the models folder names, or the built-in default; validates and warms it up, and prepares the
    /// other modules' parts of it (<see cref="IModelVersionPart"/>), whose publish actions run after the swap.
    /// </summary>
    private (RankingModelSet Set, List<Action> Publish) Load()
    {
        _runtime ??= OnnxRuntime.Load(_options.OnnxRuntimePath);
        var (manifest, directory, source) = ReadManifest();
        return LoadSet(manifest, directory, source, withParts: true);
    }

    /// <summary>The served version and every extra version the requirements name; nothing is left loaded when one is refused.</summary>
    private (RankingModelSet Set, List<Action> Publish, Dictionary<string, ExtraVersion> Extras) LoadAll()
    {
        var (set, publish) = Load();
        var extras = new Dictionary<string, ExtraVersion>(StringComparer.Ordinal);
        try
        {
            foreach (var group in _requirements.SelectMany(r => r.Versions).GroupBy(v => v.Folder, StringComparer.Ordinal))
            {
                var requiredBy = group.Select(r => r.RequiredBy).Distinct(StringComparer.Ordinal).ToArray();
                try
                {
                    var (manifest, directory, source) = ReadVersionManifest(group.Key);
                    var (extra, _) = LoadSet(manifest, directory, source, withParts: false);
                    extras.Add(group.Key, new ExtraVersion(extra, requiredBy));
                }
                catch (ModelRejectedException ex)
                {
                    throw new ModelRejectedException($"Model version '{group.Key}', named by {string.Join(" and ", requiredBy)}, is refused: {ex.Message}", ex);
                }
            }
            return (set, publish, extras);
        }
        catch
        {
            set.Retire();
            foreach (var extra in extras.Values) extra.Set.Retire();
            throw;
        }
    }

    /// <summary>Loads, validates and warms up one version; with <paramref name="withParts"/>, prepares the other modules' parts of it too.</summary>
    private (RankingModelSet Set, List<Action> Publish) LoadSet(ModelManifest? manifest, string? directory, string source, bool withParts)
    {
        var settings = OnnxSessionSettings.From(_options);
        var batching = BatcherSettings.From(_options);
        FeatureSchema schema;
        try
        {
            schema = manifest is null ? DefaultModels.Schema : FeatureSchema.FromNames(manifest.Features);
        }
        catch (ArgumentException ex)
        {
            throw new ModelRejectedException($"{source}: the feature schema is refused: {ex.Message}", ex);
        }

        var effective = manifest ?? DefaultModels.Manifest;
        StageModel? pre = null;
        StageModel? ranker = null;
        try
        {
            if (effective.PreRanker is { } preManifest)
            {
                var model = LoadModel("pre-ranker", directory, preManifest.File, manifest is null ? DefaultModels.PreRanker() : null, settings);
                pre = Adopt(model, () => RankingModelSet.Stage("pre-ranker", preManifest.File, model, schema,
                    new Dictionary<string, double> { [preManifest.Output] = 1.0 }, batching, _loggers.CreateLogger<ScoringBatcher>()));
            }
            var rankerModel = LoadModel("ranker", directory, effective.Ranker.File, manifest is null ? DefaultModels.Ranker() : null, settings);
            ranker = Adopt(rankerModel, () => RankingModelSet.Stage("ranker", effective.Ranker.File, rankerModel, schema,
                effective.Ranker.Outputs, batching, _loggers.CreateLogger<ScoringBatcher>()));
            WarmUp(pre, schema);
            WarmUp(ranker, schema);
            var publish = new List<Action>(_parts.Length);
            if (manifest is not null && withParts)
            {
                foreach (var part in _parts)
                {
                    if (part.Prepare(directory!, manifest) is { } action) publish.Add(action);
                }
            }
            return (new RankingModelSet(effective.Version, source, schema, pre, ranker), publish);
        }
        catch
        {
            pre?.Dispose();
            ranker?.Dispose();
            throw;
        }
    }

    private static StageModel Adopt(OnnxModel model, Func<StageModel> stage)
    {
        try
        {
            return stage();
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private OnnxModel LoadModel(string role, string? directory, string file, byte[]? builtIn, OnnxSessionSettings settings)
    {
        var logger = _loggers.CreateLogger<OnnxModel>();
        // Under auto, once CUDA proved unavailable the next sessions go straight to CPU: one log line, not one per model.
        if (_cudaUnavailable && settings.ExecutionProvider == "auto") settings = settings with { ExecutionProvider = "cpu" };
        try
        {
            OnnxModel model;
            if (builtIn is not null)
            {
                model = OnnxModel.Load(_runtime!, builtIn, settings, logger, file);
            }
            else
            {
                var path = Path.GetFullPath(Path.Combine(directory!, file));
                if (!File.Exists(path)) throw new ModelRejectedException($"The {role} file {path} named by the manifest does not exist.");
                model = OnnxModel.Load(_runtime!, path, settings, logger);
            }
            if (settings.ExecutionProvider == "auto" && model.ExecutionProvider == "cpu") _cudaUnavailable = true;
            return model;
        }
        catch (OnnxRuntimeException ex) when (ex.Code != OrtErrorCode.EpFail)
        {
            throw new ModelRejectedException($"The {role} {file} cannot be loaded: {ex.Message}", ex);
        }
    }

    /// <summary>Runs a few rows through the model itself (not the batcher): the first run is slow, and a broken graph shows here.</summary>
    private static void WarmUp(StageModel? stage, FeatureSchema schema)
    {
        if (stage is null) return;
        const int rows = 8;
        var input = new float[rows * schema.Count];
        for (var i = 0; i < input.Length; i++) input[i] = (i % 7) / 7f;
        var output = new float[rows * stage.Model.TotalOutputWidth];
        try
        {
            stage.Model.Run(input, rows, schema.Count, output);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ModelRejectedException($"The {stage.Role} {stage.File} failed its warm-up run: {ex.Message}", ex);
        }
        if (!output.All(float.IsFinite)) throw new ModelRejectedException($"The {stage.Role} {stage.File} gives non-finite scores on its warm-up rows.");
    }

    private (ModelManifest? Manifest, string? Directory, string Source) ReadManifest()
    {
        var root = Path.GetFullPath(_options.ModelsDirectory);
        string manifestPath;
        var current = Path.Combine(root, "current");
        if (File.Exists(current))
        {
            var version = File.ReadAllText(current).Trim();
            if (version.Length == 0 || version.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || version is "." or "..")
            {
                throw new ModelRejectedException($"{current} must hold the name of a version folder; it holds '{version}'.");
            }
            manifestPath = Path.Combine(root, version, "manifest.json");
        }
        else if (File.Exists(Path.Combine(root, "manifest.json")))
        {
            manifestPath = Path.Combine(root, "manifest.json");
        }
        else
        {
            return (null, null, "built-in default (no models/current or models/manifest.json)");
        }
        return ReadManifestAt(manifestPath);
    }

    /// <summary>The manifest of version folder <paramref name="folder"/> of the models directory.</summary>
    private (ModelManifest Manifest, string Directory, string Source) ReadVersionManifest(string folder)
    {
        _runtime ??= OnnxRuntime.Load(_options.OnnxRuntimePath);
        if (folder.Length == 0 || folder.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || folder is "." or "..")
        {
            throw new ModelRejectedException($"'{folder}' is not a version folder name.");
        }
        var (manifest, directory, source) = ReadManifestAt(Path.Combine(Path.GetFullPath(_options.ModelsDirectory), folder, "manifest.json"));
        return (manifest!, directory!, source);
    }

    private static (ModelManifest? Manifest, string? Directory, string Source) ReadManifestAt(string manifestPath)
    {
        if (!File.Exists(manifestPath)) throw new ModelRejectedException($"{manifestPath} does not exist.");
        ModelManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<ModelManifest>(File.ReadAllText(manifestPath), Json);
        }
        catch (JsonException ex)
        {
            throw new ModelRejectedException($"{manifestPath} is not a valid manifest: {ex.Message}", ex);
        }
        if (manifest is null || string.IsNullOrWhiteSpace(manifest.Version) || manifest.Features is null || manifest.Ranker?.File is null || manifest.Ranker.Outputs is null)
        {
            throw new ModelRejectedException($"{manifestPath} must give version, features, and ranker with file and outputs.");
        }
        return (manifest, Path.GetDirectoryName(manifestPath)!, manifestPath);
    }

    public void Dispose()
    {
        Interlocked.Exchange(ref _current, null)?.Retire();
        foreach (var extra in Interlocked.Exchange(ref _extras, new(StringComparer.Ordinal)).Values) extra.Set.Retire();
        _reloads.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Ranking models {Version} loaded from {Source} ({Provider}, ONNX Runtime {OrtVersion})")]
    private static partial void LogLoaded(ILogger logger, string version, string source, string provider, string ortVersion);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ranking models swapped from {Old} to {New} ({Source})")]
    private static partial void LogSwapped(ILogger logger, string old, string @new, string source);

    [LoggerMessage(Level = LogLevel.Error, Message = "Model reload refused, {Version} keeps serving: {Error}")]
    private static partial void LogRefused(ILogger logger, string version, string error);
}
