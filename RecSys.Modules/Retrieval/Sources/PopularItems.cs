using RecSys.Catalog;

namespace RecSys.Retrieval.Sources;

/// <summary>
/// Items ordered by engagement, computed once per catalog version. Serves the popular source, the cold-start list
/// (popular in the user's language and region first) and the fallback when personal retrieval fails.
/// </summary>
internal sealed class PopularItems(ICatalog catalog)
{
    private volatile Ranking? _ranking;

    private sealed record Ranking(string CatalogVersion, int[] Order);

    /// <summary>
    /// Appends up to <paramref name="quota"/> eligible popular items to <paramref name="destination"/>, those matching
    /// the language (then region) first when they are known. Returns how many were added.
    /// </summary>
    public int Take(int quota, EligibilityFilter filter, byte languageCode, byte regionCode, Span<int> destination)
    {
        var order = GetOrder();
        var columns = catalog.Columns;
        var taken = 0;
        // Pass 0: language and region match; pass 1: language only; pass 2: anything eligible.
        for (var pass = 0; pass < 3 && taken < quota; pass++)
        {
            if (pass < 2 && languageCode == Locales.Unknown) continue;
            if (pass == 0 && regionCode == Locales.Unknown) continue;
            foreach (var item in order)
            {
                if (taken == quota) break;
                if (columns.LanguageCodes[item] != languageCode && pass < 2) continue;
                if (pass == 0 && columns.RegionCodes[item] != regionCode) continue;
                if (pass == 1 && columns.RegionCodes[item] == regionCode) continue; // taken in pass 0
                if (pass == 2 && languageCode != Locales.Unknown && columns.LanguageCodes[item] == languageCode) continue; // taken before
                if (!filter.IsEligible(item)) continue;
                destination[taken++] = item;
            }
        }
        return taken;
    }

    private int[] GetOrder()
    {
        var ranking = _ranking;
        var version = catalog.Version;
        if (ranking is not null && ranking.CatalogVersion == version) return ranking.Order;

        var engagement = catalog.Columns.Engagement;
        var order = new int[engagement.Length];
        for (var i = 0; i < order.Length; i++) order[i] = i;
        var keys = new float[engagement.Length];
        for (var i = 0; i < keys.Length; i++) keys[i] = -engagement[i];
        Array.Sort(keys, order);
        _ranking = new Ranking(version, order);
        return order;
    }
}
