using System.Buffers;
using Microsoft.Extensions.Logging;
using RecSys.Catalog;
using RecSys.Ranking;
using RecSys.Retrieval;

namespace RecSys.Training.Serving;

/// <summary>
/// The retrieval part of a model version. <see cref="Prepare"/> (run by the ranking model loader, before the swap)
/// reads and validates the item vectors the manifest names; a corrupt file, a wrong dimension or ids that do not match
/// refuse the whole version, so the previous models and vectors keep serving. Publishing maps the trained item ids onto
/// the catalog's item indices (catalog items without a trained vector get a zero vector: ANN never finds them) and
/// attaches the trainer's ALS fold-in. At start-up the catalog may not be loaded yet (the demo seeder loads it in the
/// background): the vectors then wait, and are handed to the store as the preferred set when the seeder publishes its
/// fallback vectors right after loading the catalog, or by a short poll when no seeder runs.
/// </summary>
internal sealed partial class TrainedItemVectors : IModelVersionPart, IDisposable
{
    private readonly ICatalog _catalog;
    private readonly ItemEmbeddingStore _store;
    private readonly ILogger<TrainedItemVectors> _logger;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stopping = new();
    private Loaded? _pending;

    public TrainedItemVectors(ICatalog catalog, ItemEmbeddingStore store, ILogger<TrainedItemVectors> logger)
    {
        _catalog = catalog;
        _store = store;
        _logger = logger;
        _store.PreferOverFallback(TakePending);
    }

    /// <summary>A version's vectors, validated, in the trainer's item order.</summary>
    internal sealed record Loaded(string Version, string[] Ids, AlsModel Model, RetrievalManifest Manifest)
    {
        /// <summary>The version's saved HNSW index (full path), offered to Retrieval, which checks it against the served vectors.</summary>
        public string? IndexPath { get; init; }
    }

    /// <summary>
    /// A version with vectors: validated now, published after the swap. A version without (no <c>retrieval</c> in its
    /// manifest) must not pair its rankers with another version's trained vectors: after the swap the store goes back
    /// to the fallback vectors (the demo world's), which is what a start with that version serves. When trained
    /// vectors are serving and no fallback exists (no demo world), the version is refused and the previous one keeps
    /// serving whole.
    /// </summary>
    public Action? Prepare(string versionDirectory, ModelManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        if (manifest.Retrieval is not { } retrieval)
        {
            var serving = _publishedVersion;
            if (serving is not null && !_store.HasFallback)
            {
                throw new ModelRejectedException($"{versionDirectory}: version {manifest.Version} has no item vectors (no 'retrieval' in its manifest) and no fallback vectors exist; " +
                    $"its rankers would serve with version {serving}'s trained vectors. Train it with vectors, or keep {serving}.");
            }
            return () =>
            {
                lock (_gate) _pending = null;
                if (serving is null) return;
                var fallback = _store.RevertToFallback();
                _publishedVersion = null;
                LogReverted(manifest.Version, serving, fallback?.Version ?? "none");
            };
        }
        var loaded = Load(versionDirectory, manifest.Version, retrieval);
        return () => Publish(loaded);
    }

    /// <summary>The version whose trained vectors were last published (null: none, or the fallback serves).</summary>
    private volatile string? _publishedVersion;

    /// <summary>Reads and validates the vectors a retrieval manifest names; throws <see cref="ModelRejectedException"/> naming the file and the fault.</summary>
    internal static Loaded Load(string versionDirectory, string version, RetrievalManifest retrieval)
    {
        if (!string.Equals(retrieval.FoldIn, "als", StringComparison.OrdinalIgnoreCase))
        {
            throw new ModelRejectedException($"{versionDirectory}: the manifest's retrieval fold-in '{retrieval.FoldIn}' is unknown (expected 'als').");
        }
        if (retrieval.Dimensions < 1 || retrieval.History < 1 || !double.IsFinite(retrieval.Alpha) || retrieval.Alpha < 0
            || !double.IsFinite(retrieval.Regularization) || retrieval.Regularization <= 0 || !float.IsFinite(retrieval.Strength) || retrieval.Strength <= 0)
        {
            throw new ModelRejectedException($"{versionDirectory}: the manifest's retrieval settings are invalid: {retrieval}.");
        }
        var vectorsPath = Path.GetFullPath(Path.Combine(versionDirectory, retrieval.ItemVectors));
        var idsPath = Path.GetFullPath(Path.Combine(versionDirectory, retrieval.ItemIds));
        float[] data;
        int count;
        int dimensions;
        string[] ids;
        try
        {
            (data, count, dimensions) = VectorFile.Read(vectorsPath);
            ids = File.ReadAllLines(idsPath);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            throw new ModelRejectedException($"The item vectors cannot be loaded: {ex.Message}", ex);
        }
        if (dimensions != retrieval.Dimensions)
        {
            throw new ModelRejectedException($"{vectorsPath}: {dimensions} dimensions, the manifest says {retrieval.Dimensions}.");
        }
        if (count != ids.Length)
        {
            throw new ModelRejectedException($"{vectorsPath}: {count} vectors, but {idsPath} holds {ids.Length} ids.");
        }
        var options = new AlsOptions { Factors = dimensions, Alpha = retrieval.Alpha, Regularization = retrieval.Regularization };
        var model = new AlsModel(options, 0, count, [], data);
        // The fold-in's Gram matrix and base inverse (O(items k²)) are computed here, off the request path.
        if (count > 0) model.FoldIn([0], [retrieval.Strength], new float[dimensions]);
        return new Loaded(version, ids, model, retrieval)
        {
            IndexPath = retrieval.Index is { Length: > 0 } index ? Path.GetFullPath(Path.Combine(versionDirectory, index)) : null,
        };
    }

    private void Publish(Loaded loaded)
    {
        lock (_gate) _pending = loaded;
        if (_catalog.IsLoaded)
        {
            _store.PublishPreferred();
            return;
        }
        LogWaiting(loaded.Version);
        _ = Task.Run(async () =>
        {
            // No seeder may publish a fallback (external catalog): publish once the catalog is there.
            try
            {
                while (!_catalog.IsLoaded) await Task.Delay(100, _stopping.Token).ConfigureAwait(false);
                _store.PublishPreferred();
            }
            catch (OperationCanceledException)
            {
            }
        });
    }

    /// <summary>The waiting vectors mapped onto the catalog, once (null when none wait or the catalog is not loaded).</summary>
    private ItemEmbeddings? TakePending()
    {
        Loaded? loaded;
        lock (_gate)
        {
            if (_pending is null || !_catalog.IsLoaded) return null;
            loaded = _pending;
            _pending = null;
        }
        var embeddings = Map(loaded, _catalog, out var mapped);
        _publishedVersion = loaded.Version;
        LogPublished(loaded.Version, mapped, loaded.Ids.Length, _catalog.ItemCount, loaded.Model.Factors);
        return embeddings;
    }

    /// <summary>Catalog-ordered vectors (zero for items the model does not know) with the model's fold-in attached.</summary>
    internal static ItemEmbeddings Map(Loaded loaded, ICatalog catalog, out int mapped)
    {
        var k = loaded.Model.Factors;
        var data = new float[Math.Max(1, catalog.ItemCount) * k];
        var toTrained = new int[catalog.ItemCount];
        Array.Fill(toTrained, -1);
        mapped = 0;
        for (var t = 0; t < loaded.Ids.Length; t++)
        {
            if (!catalog.TryGetItem(loaded.Ids[t], out var item) || (uint)item.Index >= (uint)toTrained.Length) continue;
            toTrained[item.Index] = t;
            loaded.Model.ItemVector(t).CopyTo(data.AsSpan(item.Index * k, k));
            mapped++;
        }
        return new ItemEmbeddings($"trained-{loaded.Version}", k, data)
        {
            FoldIn = new AlsUserFoldIn(loaded.Model, toTrained, loaded.Manifest.Strength, loaded.Manifest.History),
            IndexFile = loaded.IndexPath,
        };
    }

    /// <summary>Stops a wait for the catalog. Idempotent: the container disposes it under both registrations.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
        }
        _stopping.Cancel();
        _stopping.Dispose();
    }

    private bool _disposed;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model version {Version} has no item vectors: the trained vectors of {Previous} are withdrawn and the fallback vectors ({Fallback}) serve with it")]
    private partial void LogReverted(string version, string previous, string fallback);

    [LoggerMessage(Level = LogLevel.Information, Message = "Trained item vectors of {Version} wait for the catalog")]
    private partial void LogWaiting(string version);

    [LoggerMessage(Level = LogLevel.Information, Message = "Trained item vectors of {Version} published: {Mapped} of {Trained} trained items found among {CatalogItems} catalog items, {Dimensions} dimensions, ALS fold-in")]
    private partial void LogPublished(string version, int mapped, int trained, int catalogItems, int dimensions);
}

/// <summary>
/// Serving's user fold-in: the user's most recent <paramref name="history"/> items (catalog indices) mapped to the
/// model's items, each at <paramref name="strength"/>, solved by <see cref="AlsModel.FoldIn(ReadOnlySpan{int}, ReadOnlySpan{float}, Span{float})"/>,
/// the function the trainer uses for its users and for the ranking rows' ann_similarity.
/// </summary>
internal sealed class AlsUserFoldIn(AlsModel model, int[] catalogToModel, float strength, int history) : IUserFoldIn
{
    public bool FoldIn(ReadOnlySpan<int> recentItems, Span<float> destination)
    {
        var n = Math.Min(history, recentItems.Length);
        var items = ArrayPool<int>.Shared.Rent(Math.Max(1, n));
        var strengths = ArrayPool<float>.Shared.Rent(Math.Max(1, n));
        try
        {
            var used = 0;
            for (var i = 0; i < n; i++)
            {
                var item = recentItems[i];
                if ((uint)item >= (uint)catalogToModel.Length || catalogToModel[item] < 0) continue;
                items[used] = catalogToModel[item];
                strengths[used] = strength;
                used++;
            }
            if (used == 0)
            {
                destination.Clear();
                return false;
            }
            return model.FoldIn(items.AsSpan(0, used), strengths.AsSpan(0, used), destination);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(items);
            ArrayPool<float>.Shared.Return(strengths);
        }
    }
}
