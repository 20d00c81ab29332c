using System.Numerics.Tensors;
using RecSys.Catalog;
using RecSys.Features;
using RecSys.Retrieval;

namespace RecSys.ReRanking;

/// <summary>
/// A query vector for a user without history, from context: the engagement-weighted centroid of the items of the
/// request's region and of its language, plus (weighted double) the centroids of the declared interest categories,
/// plus what is specific to the request's hour of day and device: the engagement-weighted centroid of the items engaged
/// in that hour (smoothed with its neighbours) or on that device, minus the centroid of all engagement
/// (<see cref="ContextEngagement"/>, seeded from the demo log and updated by every applied event). The re-ranking's
/// context rule blends it with the popular-in-region candidates, so the list is local, on-topic and fits the moment.
/// </summary>
public sealed class ColdStartQuery(ICatalog catalog, ItemEmbeddingStore embeddingStore, ContextEngagement engagement, TimeProvider clock)
{
    private const float InterestWeight = 2f;
    private const float HourWeight = 2f; // on (hour + half of each neighbour) / 2: the hour itself counts 1
    private const float DeviceWeight = 1.5f;

    /// <summary>A bucket with less engagement than this says nothing (its centroid would be noise).</summary>
    internal const double MinBucketWeight = 20;

    /// <summary>The context centroids are rebuilt (in the background) at most this often while events arrive.</summary>
    internal static readonly TimeSpan ContextRefresh = TimeSpan.FromSeconds(5);

    private Centroids? _centroids;
    private ContextCentroids? _context;
    private int _building;
    private readonly Lock _lock = new();

    /// <summary>True when <paramref name="category"/> names a category of the loaded catalog (case-insensitive).</summary>
    public bool IsKnownCategory(string category) => Current() is { } c && c.CategoryIds.ContainsKey(category);

    /// <summary>Writes a unit query vector to <paramref name="destination"/>; false when the context says nothing (unknown region and language, no known interest).</summary>
    public bool TryBuild(byte regionCode, byte languageCode, IReadOnlyList<string>? interests, Span<float> destination) =>
        TryBuild(regionCode, languageCode, interests, DeviceType.Unknown, null, destination);

    /// <summary>
    /// As above, with the request's device and local hour of day (0 to 23, as the event buckets; null: none) blended in
    /// when the events seen so far say something about them.
    /// </summary>
    public bool TryBuild(byte regionCode, byte languageCode, IReadOnlyList<string>? interests, DeviceType device, int? localHour, Span<float> destination)
    {
        if (Current() is not { } c || destination.Length != c.Dimensions) return false;
        destination.Clear();
        var any = false;
        if (regionCode < c.RegionCount && c.HasRegion[regionCode])
        {
            TensorPrimitives.Add(destination, c.Region(regionCode), destination);
            any = true;
        }
        if (languageCode < c.LanguageCount && c.HasLanguage[languageCode])
        {
            TensorPrimitives.Add(destination, c.Language(languageCode), destination);
            any = true;
        }
        if (interests is { Count: > 0 })
        {
            foreach (var name in interests)
            {
                if (!c.CategoryIds.TryGetValue(name, out var category)) continue;
                TensorPrimitives.MultiplyAdd(c.Category(category), InterestWeight / interests.Count, destination, destination);
                any = true;
            }
        }
        if (CurrentContext(c.Embeddings) is { } context)
        {
            if (localHour is >= 0 and < ContextEngagement.Hours)
            {
                // The hour and, at half weight, its neighbours: engagement drifts over the day, and hours are sparse.
                var hour = localHour.Value;
                foreach (var (h, w) in new[] { (hour, 1f), ((hour + 23) % 24, 0.5f), ((hour + 1) % 24, 0.5f) })
                {
                    if (!context.Has[h]) continue;
                    TensorPrimitives.MultiplyAdd(context.Deviation(h), HourWeight * w / 2f, destination, destination);
                    any = true;
                }
            }
            var deviceBucket = ContextEngagement.DeviceBucket(device);
            if (deviceBucket >= 0 && context.Has[deviceBucket])
            {
                TensorPrimitives.MultiplyAdd(context.Deviation(deviceBucket), DeviceWeight, destination, destination);
                any = true;
            }
        }
        if (!any) return false;
        var norm = TensorPrimitives.Norm(destination);
        if (norm <= 0f || !float.IsFinite(norm)) return false;
        TensorPrimitives.Divide(destination, norm, destination);
        return true;
    }

    /// <summary>
    /// The hour and device centroids for these vectors. Rebuilt on a pool thread when events moved the engagement (at
    /// most every <see cref="ContextRefresh"/>) or the vectors changed; requests use the last build meanwhile (none
    /// before the first build finishes).
    /// </summary>
    private ContextCentroids? CurrentContext(ItemEmbeddings embeddings)
    {
        var context = Volatile.Read(ref _context);
        var generation = engagement.Generation;
        if (generation == 0) return null;
        var stale = context is null || !ReferenceEquals(context.Embeddings, embeddings)
            || (context.Generation != generation && clock.GetUtcNow() - context.BuiltAt >= ContextRefresh);
        if (stale && Interlocked.CompareExchange(ref _building, 1, 0) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(_ =>
            {
                try
                {
                    RefreshContext(embeddings);
                }
                finally
                {
                    Volatile.Write(ref _building, 0);
                }
            }, null);
        }
        return context is not null && ReferenceEquals(context.Embeddings, embeddings) ? context : null;
    }

    /// <summary>Rebuilds the hour and device centroids now (the background rebuild's body; tests call it to skip the wait).</summary>
    internal void RefreshContext(ItemEmbeddings? embeddings = null)
    {
        embeddings ??= embeddingStore.Current;
        if (embeddings is null) return;
        Volatile.Write(ref _context, new ContextCentroids(engagement, embeddings, clock.GetUtcNow()));
    }

    /// <summary>
    /// Per bucket: normalise(centroid of the bucket) - normalise(centroid of all engagement), i.e. what the bucket's
    /// engagement leans toward beyond what everyone engages with; near zero when the bucket is like any other.
    /// </summary>
    private sealed class ContextCentroids
    {
        private readonly float[] _deviations;

        public ContextCentroids(ContextEngagement engagement, ItemEmbeddings embeddings, DateTimeOffset builtAt)
        {
            Generation = engagement.Generation;
            Embeddings = embeddings;
            BuiltAt = builtAt;
            var dims = embeddings.Dimensions;
            _dims = dims;
            _deviations = new float[ContextEngagement.Buckets * dims];
            Has = new bool[ContextEngagement.Buckets];
            var all = new float[dims];
            for (var b = 0; b < ContextEngagement.Buckets; b++)
            {
                var (weights, total) = engagement.Bucket(b);
                var row = _deviations.AsSpan(b * dims, dims);
                var n = Math.Min(weights.Length, embeddings.Count);
                for (var i = 0; i < n; i++)
                {
                    if (weights[i] > 0) TensorPrimitives.MultiplyAdd(embeddings.Vector(i), weights[i], row, row);
                }
                if (b < ContextEngagement.Hours) TensorPrimitives.Add(all, row, all); // every event is in exactly one hour
                Has[b] = total >= MinBucketWeight && Normalize(row);
            }
            if (!Normalize(all)) Array.Clear(Has);
            for (var b = 0; b < ContextEngagement.Buckets; b++)
            {
                if (Has[b]) TensorPrimitives.Subtract(Deviation(b), all, _deviations.AsSpan(b * dims, dims));
            }
        }

        private readonly int _dims;

        public long Generation { get; }
        public ItemEmbeddings Embeddings { get; }
        public DateTimeOffset BuiltAt { get; }
        public bool[] Has { get; }

        public ReadOnlySpan<float> Deviation(int bucket) => _deviations.AsSpan(bucket * _dims, _dims);

        private static bool Normalize(Span<float> row)
        {
            var norm = TensorPrimitives.Norm(row);
            if (norm <= 0f || !float.IsFinite(norm)) return false;
            TensorPrimitives.Divide(row, norm, row);
            return true;
        }
    }

    /// <summary>Centroids for the loaded catalog and vectors, rebuilt when either changes.</summary>
    private Centroids? Current()
    {
        var embeddings = embeddingStore.Current;
        if (!catalog.IsLoaded || embeddings is null) return null;
        var cached = _centroids;
        if (cached is not null && cached.CatalogVersion == catalog.Version && ReferenceEquals(cached.Embeddings, embeddings)) return cached;
        lock (_lock)
        {
            cached = _centroids;
            if (cached is not null && cached.CatalogVersion == catalog.Version && ReferenceEquals(cached.Embeddings, embeddings)) return cached;
            cached = new Centroids(catalog, embeddings);
            _centroids = cached;
            return cached;
        }
    }

    private sealed class Centroids
    {
        public Centroids(ICatalog catalog, ItemEmbeddings embeddings)
        {
            CatalogVersion = catalog.Version;
            Embeddings = embeddings;
            Dimensions = embeddings.Dimensions;
            var columns = catalog.Columns;
            var n = Math.Min(columns.Count, embeddings.Count);
            var categories = catalog.CategoryCount;
            _regions = new float[RegionCount * Dimensions];
            _languages = new float[LanguageCount * Dimensions];
            _categories = new float[categories * Dimensions];
            HasRegion = new bool[RegionCount];
            HasLanguage = new bool[LanguageCount];
            var names = new string?[categories];
            for (var i = 0; i < n; i++)
            {
                var vector = embeddings.Vector(i);
                var weight = Math.Max(0.01f, columns.Engagement[i]);
                var region = columns.RegionCodes[i];
                if (region < RegionCount)
                {
                    TensorPrimitives.MultiplyAdd(vector, weight, _regions.AsSpan(region * Dimensions, Dimensions), _regions.AsSpan(region * Dimensions, Dimensions));
                    HasRegion[region] = true;
                }
                var language = columns.LanguageCodes[i];
                if (language < LanguageCount)
                {
                    TensorPrimitives.MultiplyAdd(vector, weight, _languages.AsSpan(language * Dimensions, Dimensions), _languages.AsSpan(language * Dimensions, Dimensions));
                    HasLanguage[language] = true;
                }
                var category = columns.CategoryIds[i];
                if ((uint)category < (uint)categories)
                {
                    TensorPrimitives.MultiplyAdd(vector, weight, _categories.AsSpan(category * Dimensions, Dimensions), _categories.AsSpan(category * Dimensions, Dimensions));
                    names[category] ??= catalog.GetItem(i).Category;
                }
            }
            Normalize(_regions);
            Normalize(_languages);
            Normalize(_categories);
            CategoryIds = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
            for (var c = 0; c < categories; c++)
            {
                if (names[c] is { } name) CategoryIds.TryAdd(name, c);
            }
        }

        private readonly float[] _regions;
        private readonly float[] _languages;
        private readonly float[] _categories;

        public string CatalogVersion { get; }
        public ItemEmbeddings Embeddings { get; }
        public int Dimensions { get; }
        public int RegionCount => Locales.Regions.Count;
        public int LanguageCount => Locales.Languages.Count;
        public bool[] HasRegion { get; }
        public bool[] HasLanguage { get; }
        public Dictionary<string, int> CategoryIds { get; }

        public ReadOnlySpan<float> Region(int code) => _regions.AsSpan(code * Dimensions, Dimensions);
        public ReadOnlySpan<float> Language(int code) => _languages.AsSpan(code * Dimensions, Dimensions);
        public ReadOnlySpan<float> Category(int id) => _categories.AsSpan(id * Dimensions, Dimensions);

        private void Normalize(float[] rows)
        {
            for (var offset = 0; offset < rows.Length; offset += Dimensions)
            {
                var row = rows.AsSpan(offset, Dimensions);
                var norm = TensorPrimitives.Norm(row);
                if (norm > 0f && float.IsFinite(norm)) TensorPrimitives.Divide(row, norm, row);
            }
        }
    }
}
