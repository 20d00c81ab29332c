using RecSys.Catalog;

namespace RecSys.ReRanking.Rules;

/// <summary>
/// A rule that vetoes items outright, wherever they come from: pins and exploration, which bring items in themselves,
/// ask every gate of the chain before inserting one.
/// </summary>
internal interface IItemGate
{
    bool Allows(in ReRankInput input, int item);
}

internal enum LanguageMode { Off, Demote, Remove }

/// <summary>
/// Region and language rules from the catalog's data (items carry a region and a language; users, or the request,
/// a region and a language):
/// <list type="bullet">
/// <item>restrictions: items of given categories or ids are shown only to users in given regions (licensing, law);</item>
/// <item>local categories: their items are shown only to users in the item's own region;</item>
/// <item>language: items in neither the user's language nor an accepted one are demoted or removed.</item>
/// </list>
/// A user of unknown region sees no restricted or local item; a user of unknown language is not language-filtered.
/// Category names and item ids are resolved once per catalog snapshot (keyed by its columns), so a request does only
/// array reads: one bit mask per category and per restricted item, one allowed-restrictions mask per region.
/// </summary>
internal sealed class LocaleRule : IReRankRule, IItemGate
{
    private const int LocalBit = 63;
    private readonly (byte[] Regions, string[] Categories, string[] ItemIds)[] _restrictions;
    private readonly string[] _localCategories;
    private readonly LanguageMode _language;
    private readonly float _demotion;
    private readonly bool[] _accepted;
    private readonly ulong[] _allowedByRegion;
    private readonly Func<string, int> _resolveItem;
    private readonly Func<string, int> _resolveCategory;
    private Resolved? _resolved;

    public LocaleRule(IReadOnlyList<(byte[] Regions, string[] Categories, string[] ItemIds)> restrictions, IReadOnlyList<string> localCategories,
        LanguageMode language, double demotion, IReadOnlyList<byte> acceptLanguages, Func<string, int> resolveItem, Func<string, int> resolveCategory)
    {
        if (restrictions.Count > LocalBit) throw new ArgumentException($"at most {LocalBit} restrictions.");
        _restrictions = [.. restrictions];
        _localCategories = [.. localCategories];
        _language = language;
        _demotion = (float)demotion;
        _accepted = new bool[256];
        foreach (var code in acceptLanguages) _accepted[code] = true;
        _allowedByRegion = new ulong[256]; // index Locales.Unknown (255) stays 0: an unknown region passes no restriction
        for (var r = 0; r < _restrictions.Length; r++)
        {
            foreach (var region in _restrictions[r].Regions) _allowedByRegion[region] |= 1UL << r;
        }
        _resolveItem = resolveItem;
        _resolveCategory = resolveCategory;
        Why = Describe();
    }

    public string Name => "locale";

    public string Why { get; }

    private string Describe()
    {
        var parts = new List<string>(3);
        if (_restrictions.Length > 0) parts.Add($"{_restrictions.Length} region restriction(s)");
        if (_localCategories.Length > 0) parts.Add($"{string.Join(", ", _localCategories)} shown only in their own region");
        var accepted = string.Join(", ", Enumerable.Range(0, 255).Where(c => _accepted[c]).Select(c => Locales.Languages[c]));
        var also = accepted.Length > 0 ? $" or {accepted}" : "";
        parts.Add(_language switch
        {
            LanguageMode.Demote => $"not in your language{also}: demoted by {_demotion:0.###}",
            LanguageMode.Remove => $"not in your language{also}: removed",
            _ => "no language rule",
        });
        return string.Join("; ", parts);
    }

    /// <summary>The configured names resolved against one catalog snapshot.</summary>
    private sealed class Resolved(ItemColumns columns, ulong[] categoryMasks, Dictionary<int, ulong> itemMasks)
    {
        public ItemColumns Columns { get; } = columns;
        public ulong[] CategoryMasks { get; } = categoryMasks;
        public Dictionary<int, ulong> ItemMasks { get; } = itemMasks;
    }

    private Resolved Resolve(ItemColumns columns)
    {
        var resolved = Volatile.Read(ref _resolved);
        if (resolved is not null && ReferenceEquals(resolved.Columns, columns)) return resolved;
        var categories = new Dictionary<int, ulong>();
        var items = new Dictionary<int, ulong>();
        for (var r = 0; r < _restrictions.Length; r++)
        {
            foreach (var name in _restrictions[r].Categories)
            {
                var id = _resolveCategory(name);
                if (id >= 0) categories[id] = categories.GetValueOrDefault(id) | (1UL << r);
            }
            foreach (var itemId in _restrictions[r].ItemIds)
            {
                var index = _resolveItem(itemId);
                if (index >= 0) items[index] = items.GetValueOrDefault(index) | (1UL << r);
            }
        }
        foreach (var name in _localCategories)
        {
            var id = _resolveCategory(name);
            if (id >= 0) categories[id] = categories.GetValueOrDefault(id) | (1UL << LocalBit);
        }
        var masks = new ulong[categories.Count == 0 ? 0 : categories.Keys.Max() + 1];
        foreach (var (id, mask) in categories) masks[id] = mask;
        resolved = new Resolved(columns, masks, items);
        Volatile.Write(ref _resolved, resolved);
        return resolved;
    }

    public bool Allows(in ReRankInput input, int item) => AllowedByRegion(input, Resolve(input.Columns), item) && !(_language == LanguageMode.Remove && OutOfLanguage(input, item));

    private bool AllowedByRegion(in ReRankInput input, Resolved resolved, int item)
    {
        var category = input.Columns.CategoryIds[item];
        var mask = (uint)category < (uint)resolved.CategoryMasks.Length ? resolved.CategoryMasks[category] : 0UL;
        if (resolved.ItemMasks.Count > 0 && resolved.ItemMasks.TryGetValue(item, out var itemMask)) mask |= itemMask;
        if (mask == 0) return true;
        var region = input.RegionCode ?? Locales.Unknown;
        if ((mask & (1UL << LocalBit)) != 0 && (region == Locales.Unknown || input.Columns.RegionCodes[item] != region)) return false;
        var restrictions = mask & ~(1UL << LocalBit);
        return (restrictions & ~_allowedByRegion[region]) == 0;
    }

    private bool OutOfLanguage(in ReRankInput input, int item)
    {
        var language = input.LanguageCode ?? Locales.Unknown;
        if (language == Locales.Unknown) return false;
        var itemLanguage = input.Columns.LanguageCodes[item];
        return itemLanguage != Locales.Unknown && itemLanguage != language && !_accepted[itemLanguage];
    }

    public void Apply(in ReRankInput input, RuleList list, ulong bit)
    {
        var resolved = Resolve(input.Columns);
        var demoted = false;
        for (var i = list.Length - 1; i >= 0; i--)
        {
            var value = list.Slots[i];
            var item = list.ItemOf(input, value);
            if (!AllowedByRegion(input, resolved, item))
            {
                list.Remove(i, bit);
                continue;
            }
            if (_language == LanguageMode.Off || !OutOfLanguage(input, item)) continue;
            if (_language == LanguageMode.Remove)
            {
                list.Remove(i, bit);
                continue;
            }
            list.Relevance[value] -= _demotion;
            list.Marks[value] |= bit;
            demoted = true;
        }
        if (demoted) list.SortByRelevance(0);
    }
}

/// <summary>Category names to ids of the loaded catalog, rebuilt when its snapshot changes.</summary>
internal sealed class CatalogCategoryIndex(ICatalog catalog)
{
    private (string Version, Dictionary<string, int> Ids)? _index;
    private readonly Lock _lock = new();

    public int Resolve(string name)
    {
        if (!catalog.IsLoaded) return -1;
        var index = _index;
        if (index is null || index.Value.Version != catalog.Version)
        {
            lock (_lock)
            {
                index = _index;
                if (index is null || index.Value.Version != catalog.Version)
                {
                    var ids = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
                    for (var i = 0; i < catalog.ItemCount; i++)
                    {
                        var item = catalog.GetItem(i);
                        ids.TryAdd(item.Category, item.CategoryId);
                    }
                    index = (catalog.Version, ids);
                    _index = index;
                }
            }
        }
        return index.Value.Ids.TryGetValue(name, out var id) ? id : -1;
    }
}
