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
}

/// <summary>Holds the item vectors the service currently serves; a loader publishes a new set atomically.</summary>
public sealed class ItemEmbeddingStore
{
    private volatile ItemEmbeddings? _current;

    /// <summary>The vectors in use, or null before the first load.</summary>
    public ItemEmbeddings? Current => _current;

    public void Publish(ItemEmbeddings embeddings)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        _current = embeddings;
        Published?.Invoke(embeddings);
    }

    /// <summary>Raised after a new set is published (the ANN index rebuilds from it, off the request path).</summary>
    public event Action<ItemEmbeddings>? Published;
}
