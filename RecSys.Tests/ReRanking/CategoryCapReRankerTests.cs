using Microsoft.Extensions.Options;
using RecSys.Catalog;
using RecSys.ReRanking;
using RecSys.ReRanking.Rules;

namespace RecSys.Tests.ReRanking;

public class CategoryCapReRankerTests
{
    private static ItemColumns Columns(params int[] categories)
    {
        var columns = new ItemColumns(categories.Length);
        categories.CopyTo(columns.CategoryIds, 0);
        return columns;
    }

    private static int[] Pick(int cap, int[] ordered, ItemColumns columns, int count)
    {
        var reRanker = new CategoryCapReRanker(Options.Create(new ReRankingOptions { MaxPerCategory = cap }));
        var chosen = new int[count];
        var n = reRanker.ReRank(ordered, columns, count, chosen);
        return chosen[..n].Select(position => ordered[position]).ToArray();
    }

    [Fact]
    public void Keeps_at_most_cap_items_per_category_in_ranked_order()
    {
        // Items 0-5 are category 0, items 6-9 category 1.
        var columns = Columns(0, 0, 0, 0, 0, 0, 1, 1, 1, 1);
        var picked = Pick(3, [0, 1, 2, 3, 4, 6, 7, 8, 9, 5], columns, 6);
        Assert.Equal([0, 1, 2, 6, 7, 8], picked);
    }

    [Fact]
    public void Drops_duplicates()
    {
        var columns = Columns(0, 1, 2);
        Assert.Equal([0, 1, 2], Pick(3, [0, 0, 1, 1, 2], columns, 5));
    }

    [Fact]
    public void Returns_a_shorter_list_rather_than_break_the_cap()
    {
        var columns = Columns(0, 0, 0, 0, 0);
        Assert.Equal([0, 1], Pick(2, [0, 1, 2, 3, 4], columns, 4));
    }
}
