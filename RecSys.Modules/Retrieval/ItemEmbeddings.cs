namespace RecSys.Retrieval;

/// <summary>
/// Item vectors in one contiguous row-major array (item index x dimension). Items and users share this space:
/// a user's query vector is folded in from the vectors of the items they interacted with.
/// </summary>
public sealed class ItemEmbeddings
{
    public ItemEmbeddings(string version, int dimensions, float[] data)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(version);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        if (data.Length % dimensions != 0)
        {
            throw new ArgumentException($"Embedding data has {data.Length} floats, not a multiple of {dimensions} dimensions.", nameof(data));
        }
        Version = version;
        Dimensions = dimensions;
        Data = data;
        Count = data.Length / dimensions;
    }

    public string Version { get; }
    public int Dimensions { get; }
    public int Count { get; }

    /// <summary>All vectors, row after row.</summary>
    public float[] Data { get; }

    public ReadOnlySpan<float> Vector(int item) => Data.AsSpan(item * Dimensions, Dimensions);

    /// <summary>
    /// How a user's query vector is folded in against these vectors, when they come from a trained model (the trainer's
    /// own function, so serving and training agree); null for vectors without one (the demo world's), which use the
    /// mean fold-in of <c>Features.UserEmbedding</c>.
    /// </summary>
    public IUserFoldIn? FoldIn { get; init; }

    /// <summary>
    /// A saved HNSW index offered with these vectors (a trained model version's, <see cref="HnswIndexFiles"/>): the
    /// service loads it instead of building when it holds exactly these vectors and was built with the service's M and
    /// efConstruction; a corrupt or mismatched file is refused (logged with its path) and the index is built as usual.
    /// </summary>
    public string? IndexFile { get; init; }
}

/// <summary>A trained model's user fold-in: the query vector of a user from their recent items (catalog indices, most recent first).</summary>
public interface IUserFoldIn
{
    /// <summary>Writes the query vector (length = dimensions); returns false (destination zeroed) when no item is usable.</summary>
    bool FoldIn(ReadOnlySpan<int> recentItems, Span<float> destination);
}

/// <summary>Holds the item vectors the service currently serves; a loader publishes a new set atomically.</summary>
public sealed class ItemEmbeddingStore
{
    private readonly Lock _gate = new();
    private volatile ItemEmbeddings? _current;
    private Func<ItemEmbeddings?>? _preferred;
    private ItemEmbeddings? _fallback;

    /// <summary>The vectors in use, or null before the first load.</summary>
    public ItemEmbeddings? Current => _current;

    public void Publish(ItemEmbeddings embeddings)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        lock (_gate) _current = embeddings;
        Published?.Invoke(embeddings);
    }

    /// <summary>
    /// Publishes a fallback set (the demo world's vectors) only when nothing is published yet, so that it never replaces
    /// a trained model's vectors. When a preferred source is registered (<see cref="PreferOverFallback"/>) and has a
    /// set at that moment, that set is published instead. Returns what was published, or null when nothing was.
    /// </summary>
    public ItemEmbeddings? PublishFallback(ItemEmbeddings fallback)
    {
        ArgumentNullException.ThrowIfNull(fallback);
        ItemEmbeddings chosen;
        lock (_gate)
        {
            _fallback = fallback;
            if (_current is not null) return null;
            chosen = _preferred?.Invoke() ?? fallback;
            _current = chosen;
        }
        Published?.Invoke(chosen);
        return chosen;
    }

    /// <summary>
    /// Publishes what the preferred source (<see cref="PreferOverFallback"/>) has now, if anything: its own late
    /// arrival (a trained set that waited for the catalog). Asked under the same lock as <see cref="PublishFallback"/>,
    /// so a fallback published at the same moment cannot slip in between the source handing its set over and the
    /// set being published. Returns what was published, or null.
    /// </summary>
    public ItemEmbeddings? PublishPreferred()
    {
        ItemEmbeddings? chosen;
        lock (_gate)
        {
            chosen = _preferred?.Invoke();
            if (chosen is null) return null;
            _current = chosen;
        }
        Published?.Invoke(chosen);
        return chosen;
    }

    /// <summary>True once a fallback set is known (<see cref="PublishFallback"/> was called), whether or not it was published.</summary>
    public bool HasFallback => _fallback is not null;

    /// <summary>
    /// Serves the fallback set again (a model version without vectors of its own was loaded: serve what a start with that
    /// version would serve). Returns it, or null when no fallback is known (nothing changes then).
    /// </summary>
    public ItemEmbeddings? RevertToFallback()
    {
        ItemEmbeddings? fallback;
        lock (_gate)
        {
            fallback = _fallback;
            if (fallback is null || ReferenceEquals(_current, fallback)) return fallback;
            _current = fallback;
        }
        Published?.Invoke(fallback);
        return fallback;
    }

    /// <summary>
    /// Registers the source asked first when a fallback is published: a trained model's vectors that wait for the
    /// catalog (loaded by the same component that publishes the fallback) return here, so only one set is published.
    /// </summary>
    public void PreferOverFallback(Func<ItemEmbeddings?> preferred)
    {
        ArgumentNullException.ThrowIfNull(preferred);
        lock (_gate) _preferred = preferred;
    }

    /// <summary>Raised after a new set is published (the ANN index rebuilds from it, off the request path).</summary>
    public event Action<ItemEmbeddings>? Published;
}
