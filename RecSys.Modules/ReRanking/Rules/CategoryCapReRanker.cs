using System.Buffers;
using Microsoft.Extensions.Options;
using RecSys.Catalog;

namespace RecSys.ReRanking.Rules;

/// <summary>
/// Walks the ranked list and keeps an item unless it repeats one already kept or its category already has
/// <see cref="ReRankingOptions.MaxPerCategory"/> items. The cap is a hard rule: when the candidates run out, the list is
/// shorter rather than over the cap.
/// </summary>
internal sealed class CategoryCapReRanker(IOptions<ReRankingOptions> options) : IReRanker
{
    public int ReRank(ReadOnlySpan<int> orderedItems, ItemColumns columns, int count, Span<int> chosen)
    {
        ArgumentNullException.ThrowIfNull(columns);
        var cap = options.Value.MaxPerCategory;
        count = Math.Min(count, chosen.Length);
        var categories = columns.CategoryIds;
        var keptItems = ArrayPool<int>.Shared.Rent(Math.Max(1, count));
        var keptCategories = ArrayPool<int>.Shared.Rent(Math.Max(1, count));
        try
        {
            var kept = 0;
            for (var position = 0; position < orderedItems.Length && kept < count; position++)
            {
                var item = orderedItems[position];
                var category = categories[item];
                // Lists are short (<= 100), so a linear scan beats any set.
                if (keptItems.AsSpan(0, kept).Contains(item)) continue;
                if (keptCategories.AsSpan(0, kept).Count(category) >= cap) continue;
                keptItems[kept] = item;
                keptCategories[kept] = category;
                chosen[kept++] = position;
            }
            return kept;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(keptItems);
            ArrayPool<int>.Shared.Return(keptCategories);
        }
    }
}
