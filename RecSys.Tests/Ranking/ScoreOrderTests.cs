using RecSys.Ranking;

namespace RecSys.Tests.Ranking;

public class ScoreOrderTests
{
    [Fact]
    public void Orders_best_first_with_ties_in_position_order_and_nan_last()
    {
        float[] scores = [0.5f, float.NaN, 0.9f, 0.5f, 0.1f, 0.9f, 0.5f];
        var keys = new float[scores.Length];
        var order = new int[scores.Length];

        ScoreOrder.Descending(scores, keys, order);

        Assert.Equal([2, 5, 0, 3, 6, 4, 1], order);
        Assert.Equal(-0.9f, keys[0]);
        Assert.Equal(float.PositiveInfinity, keys[^1]);
    }

    [Fact]
    public void Many_equal_scores_keep_their_positions()
    {
        var scores = Enumerable.Repeat(0.25f, 1000).ToArray();
        var order = new int[1000];
        ScoreOrder.Descending(scores, new float[1000], order);
        Assert.Equal(Enumerable.Range(0, 1000), order);
    }
}
