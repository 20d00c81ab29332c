using RecSys.Catalog;

namespace RecSys.Retrieval.Sources;

/// <summary>
/// Item lists derived from the catalog columns once per catalog version: every item newest first (the fresh source)
/// and each author's items newest first in one CSR layout (the social source).
/// </summary>
internal sealed class CatalogItemLists(ICatalog catalog)
{
    private volatile Lists? _lists;

    private sealed record Lists(string CatalogVersion, int[] Newest, int[] AuthorOffsets, int[] AuthorItems);

    /// <summary>
    /// Writes up to destination.Length of the newest items, those in <paramref name="languageCode"/> first when it is
    /// known; eligibility is left to the merge. Returns how many were written.
    /// </summary>
    public int Fresh(byte languageCode, Span<int> destination)
    {
        var lists = Get();
        var languages = catalog.Columns.LanguageCodes;
        var taken = 0;
        for (var pass = languageCode == Locales.Unknown ? 1 : 0; pass < 2 && taken < destination.Length; pass++)
        {
            foreach (var item in lists.Newest)
            {
                if (taken == destination.Length) break;
                var matches = languages[item] == languageCode;
                if (pass == 0 ? !matches : languageCode != Locales.Unknown && matches) continue;
                destination[taken++] = item;
            }
        }
        return taken;
    }

    /// <summary>
    /// Writes the newest items of the user's friends, followed authors and group peers (at most
    /// <paramref name="perAuthor"/> each), newest first; returns how many were written.
    /// </summary>
    public int Social(SocialContext social, int perAuthor, Span<int> destination, Span<float> scratch)
    {
        var lists = Get();
        var created = catalog.Columns.CreatedAtUnixSeconds;
        var heap = new TopK(scratch[..destination.Length], destination);
        Collect(lists, created, social.FollowedAuthors, perAuthor, ref heap);
        Collect(lists, created, social.Friends, perAuthor, ref heap);
        Collect(lists, created, social.GroupPeers, perAuthor, ref heap);
        return heap.SortDescending();
    }

    private static void Collect(Lists lists, long[] created, int[] authors, int perAuthor, ref TopK heap)
    {
        foreach (var author in authors)
        {
            if ((uint)author + 1 >= (uint)lists.AuthorOffsets.Length) continue;
            var start = lists.AuthorOffsets[author];
            var end = Math.Min(lists.AuthorOffsets[author + 1], start + perAuthor);
            for (var i = start; i < end; i++)
            {
                var item = lists.AuthorItems[i];
                // Recency as a float score: hours relative to 2020, precise to well under a minute.
                var score = (float)((created[item] - 1_577_836_800L) / 3600.0);
                if (score <= heap.Threshold) break; // this author's later items are older still
                heap.Push(score, item);
            }
        }
    }

    private Lists Get()
    {
        var lists = _lists;
        var version = catalog.Version;
        if (lists is not null && lists.CatalogVersion == version) return lists;

        var columns = catalog.Columns;
        var n = columns.Count;
        var newest = new int[n];
        var keys = new long[n];
        for (var i = 0; i < n; i++)
        {
            newest[i] = i;
            keys[i] = -columns.CreatedAtUnixSeconds[i];
        }
        Array.Sort(keys, newest);

        var authors = 0;
        for (var i = 0; i < n; i++) authors = Math.Max(authors, columns.AuthorIndices[i] + 1);
        var offsets = new int[authors + 1];
        for (var i = 0; i < n; i++) if (columns.AuthorIndices[i] >= 0) offsets[columns.AuthorIndices[i] + 1]++;
        for (var a = 0; a < authors; a++) offsets[a + 1] += offsets[a];
        var fill = offsets.AsSpan(0, authors).ToArray();
        var byAuthor = new int[offsets[authors]];
        // Walking items newest first leaves each author's run newest first.
        foreach (var item in newest)
        {
            var author = columns.AuthorIndices[item];
            if (author >= 0) byAuthor[fill[author]++] = item;
        }
        lists = new Lists(version, newest, offsets, byAuthor);
        _lists = lists;
        return lists;
    }
}
