using RecSys.Catalog;
using RecSys.Retrieval;
using RecSys.Retrieval.Exact;

namespace RecSys.Tests.Retrieval;

public class ExactSearchTests
{
    private static ItemEmbeddings RandomEmbeddings(int count, int dims, int seed)
    {
        var rng = new Random(seed);
        var data = new float[count * dims];
        for (var i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() * 2 - 1);
        return new ItemEmbeddings("test", dims, data);
    }

    private static int[] NaiveTopK(ItemEmbeddings e, float[] query, int k, Func<int, bool> eligible)
    {
        var scored = new List<(float Score, int Id)>();
        for (var i = 0; i < e.Count; i++)
        {
            if (!eligible(i)) continue;
            var s = 0f;
            for (var d = 0; d < e.Dimensions; d++) s += e.Vector(i)[d] * query[d];
            scored.Add((s, i));
        }
        return scored.OrderByDescending(x => x.Score).Take(k).Select(x => x.Id).ToArray();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(10)]
    [InlineData(500)]
    public void Top_k_matches_a_naive_loop(int k)
    {
        var e = RandomEmbeddings(5000, 24, seed: k);
        var query = Enumerable.Range(0, 24).Select(i => MathF.Sin(i + k)).ToArray();
        var ids = new int[k];
        var scores = new float[k];

        var found = ExactSearch.Search(e, query, null, ids, scores);

        Assert.Equal(k, found);
        Assert.Equal(NaiveTopK(e, query, k, _ => true), ids);
        for (var i = 1; i < found; i++) Assert.True(scores[i - 1] >= scores[i], "scores must be best first");
    }

    [Fact]
    public void Filtered_search_returns_k_eligible_items_even_when_most_are_filtered_out()
    {
        var e = RandomEmbeddings(4000, 16, seed: 3);
        var columns = new ItemColumns(e.Count);
        // 90% NSFW, and a blocked author on every item whose index is divisible by 7.
        for (var i = 0; i < e.Count; i++)
        {
            columns.Nsfw[i] = i % 10 != 0;
            columns.AuthorIndices[i] = i % 7 == 0 ? 99 : 1;
        }
        var excluded = new HashSet<int> { 10, 20, 30 };
        var filter = new EligibilityFilter(columns, allowNsfw: false, blockedAuthors: [99], excluded);
        var query = Enumerable.Range(0, 16).Select(i => (float)Math.Cos(i)).ToArray();
        var ids = new int[50];

        var found = ExactSearch.Search(e, query, filter, ids, new float[50]);

        Assert.Equal(50, found);
        Assert.All(ids, id => Assert.True(filter.IsEligible(id)));
        Assert.Equal(NaiveTopK(e, query, 50, filter.IsEligible), ids);
    }

    [Fact]
    public void Returns_fewer_than_k_when_fewer_items_are_eligible()
    {
        var e = RandomEmbeddings(100, 8, seed: 5);
        var columns = new ItemColumns(e.Count);
        for (var i = 0; i < e.Count; i++) columns.Nsfw[i] = i >= 5;
        var filter = new EligibilityFilter(columns, false, [], new HashSet<int>());

        var ids = new int[20];
        var found = ExactSearch.Search(e, new float[8] { 1, 0, 0, 0, 0, 0, 0, 0 }, filter, ids, new float[20]);

        Assert.Equal(5, found);
        Assert.Equal([0, 1, 2, 3, 4], ids[..found].Order().ToArray());
    }

    [Fact]
    public void A_query_of_the_wrong_dimension_is_refused()
    {
        var e = RandomEmbeddings(10, 8, seed: 1);
        var ex = Assert.Throws<ArgumentException>(() => ExactSearch.Search(e, new float[7], null, new int[3], new float[3]));
        Assert.Contains("7 dimensions", ex.Message, StringComparison.Ordinal);
    }
}
