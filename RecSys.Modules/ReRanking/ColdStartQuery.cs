using System.Numerics.Tensors;
using RecSys.Catalog;
using RecSys.Retrieval;

namespace RecSys.ReRanking;

/// <summary>
/// A query vector for a user without history, from context: the engagement-weighted centroid of the items of the
/// request's region and of its language, plus (weighted double) the centroids of the declared interest categories.
/// Retrieval blends the items near it with its popular-in-region source, so the list is both local and on-topic.
/// Device and time of day are not used yet: nothing in the stores ties them to items (TEMPORARY, see the README).
/// </summary>
public sealed class ColdStartQuery(ICatalog catalog, ItemEmbeddingStore embeddingStore)
{
    private const float InterestWeight = 2f;
    private Centroids? _centroids;
    private readonly Lock _lock = new();

    /// <summary>True when <paramref name="category"/> names a category of the loaded catalog (case-insensitive).</summary>
    public bool IsKnownCategory(string category) => Current() is { } c && c.CategoryIds.ContainsKey(category);

    /// <summary>Writes a unit query vector to <paramref name="destination"/>; false when the context says nothing (unknown region and language, no known interest).</summary>
    public bool TryBuild(byte regionCode, byte languageCode, IReadOnlyList<string>? interests, Span<float> destination)
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
        if (!any) return false;
        var norm = TensorPrimitives.Norm(destination);
        if (norm <= 0f || !float.IsFinite(norm)) return false;
        TensorPrimitives.Divide(destination, norm, destination);
        return true;
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
