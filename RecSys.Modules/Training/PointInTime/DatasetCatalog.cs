using System.Diagnostics.CodeAnalysis;
using RecSys.Catalog;

namespace RecSys.Training.PointInTime;

/// <summary>
/// The item columns of a training dataset behind <see cref="ICatalog"/>, so the serving <c>FeatureAssembler</c> fills
/// training rows with the same code. Only the columns are real: display lookups are not needed by assembly.
/// </summary>
internal sealed class DatasetCatalog : ICatalog
{
    public DatasetCatalog(InteractionDataset dataset)
    {
        var categories = new Dictionary<string, int>(StringComparer.Ordinal);
        Columns = new ItemColumns(dataset.ItemCount);
        for (var i = 0; i < dataset.ItemCount; i++)
        {
            var item = dataset.Items[i];
            var category = item.Category ?? "";
            if (!categories.TryGetValue(category, out var c)) categories[category] = c = categories.Count;
            Columns.CategoryIds[i] = c;
            Columns.AuthorIndices[i] = item.Author is { } a && dataset.TryGetUserIndex(a, out var author) ? author : -1;
            Columns.CreatedAtUnixSeconds[i] = item.CreatedAtUnixSeconds ?? 0;
            Columns.Engagement[i] = item.Engagement ?? 0f;
            Columns.Nsfw[i] = item.Nsfw;
            Columns.RegionCodes[i] = Locales.RegionCode(item.Region);
            Columns.LanguageCodes[i] = Locales.LanguageCode(item.Language);
        }
        CategoryCount = categories.Count;
        Version = dataset.Name;
    }

    /// <summary>Columns saved with a model version (the <c>recommend</c> verb's funnel).</summary>
    public DatasetCatalog(ItemColumns columns, int categoryCount, string version)
    {
        Columns = columns;
        CategoryCount = categoryCount;
        Version = version;
    }

    public bool IsLoaded => true;
    public string Version { get; }
    public int ItemCount => Columns.Count;
    public int CategoryCount { get; }
    public ItemColumns Columns { get; }

    public Item GetItem(int index) => throw new NotSupportedException("The training catalog holds item columns only.");
    public bool TryGetItem(string id, [NotNullWhen(true)] out Item? item) => throw new NotSupportedException("The training catalog holds item columns only.");
    public bool TryGetUser(string id, [NotNullWhen(true)] out UserProfile? user) => throw new NotSupportedException("The training catalog holds item columns only.");
    public UserProfile GetUser(int index) => throw new NotSupportedException("The training catalog holds item columns only.");
}
