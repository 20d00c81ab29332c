using RecSys.Training;

namespace RecSys.Tests.Training;

/// <summary>Every metric against values worked out by hand (the arithmetic is in the comments).</summary>
public class MetricsTests
{
    private static readonly int[] Ranked = [5, 3, 9, 1, 7];
    private static readonly HashSet<int> Relevant = [3, 7, 8];

    [Fact]
    public void Recall_and_hit_rate_count_hits_in_the_top_k()
    {
        Assert.Equal(1.0 / 3, Metrics.RecallAtK(Ranked, Relevant, 3), 12);   // only 3 (position 2)
        Assert.Equal(2.0 / 3, Metrics.RecallAtK(Ranked, Relevant, 5), 12);   // 3 and 7
        Assert.Equal(2.0 / 3, Metrics.RecallAtK(Ranked, Relevant, 50), 12);  // a list shorter than k
        Assert.Equal(0, Metrics.HitRateAtK(Ranked, Relevant, 1));
        Assert.Equal(1, Metrics.HitRateAtK(Ranked, Relevant, 2));
        Assert.Equal(0.4, Metrics.PrecisionAtK(Ranked, Relevant, 5), 12);
        Assert.Equal(0, Metrics.RecallAtK(Ranked, new HashSet<int>(), 5));
    }

    [Fact]
    public void Ndcg_uses_log2_discounts_and_an_ideal_list_of_min_k_relevant_items()
    {
        // @5: DCG = 1/log2(3) + 1/log2(6) = 0.630930 + 0.386853; IDCG = 1 + 1/log2(3) + 1/log2(4) = 2.130930.
        Assert.Equal((0.6309297535714574 + 0.3868528072345416) / 2.1309297535714574, Metrics.NdcgAtK(Ranked, Relevant, 5), 12);
        // @2: DCG = 1/log2(3); IDCG = 1 + 1/log2(3).
        Assert.Equal(0.6309297535714574 / 1.6309297535714574, Metrics.NdcgAtK(Ranked, Relevant, 2), 12);
        // A perfect list scores 1.
        Assert.Equal(1, Metrics.NdcgAtK([3, 7, 8, 1], Relevant, 3), 12);
    }

    [Fact]
    public void Coverage_counts_distinct_items_in_every_top_k()
    {
        // top 2 of each: {1, 2} and {3, 4}: 4 of 10 items.
        Assert.Equal(0.4, Metrics.CoverageAtK([[1, 2, 3], [3, 4, 5]], 2, 10), 12);
    }

    [Fact]
    public void Auc_is_the_share_of_correctly_ordered_positive_negative_pairs_with_ties_as_half()
    {
        // Positives 0.9, 0.7, 0.6 against negatives 0.8, 0.6: 0.9 beats both (2), 0.7 beats 0.6 (1), 0.6 ties 0.6 (0.5): 3.5 / 6.
        Assert.Equal(3.5 / 6, Metrics.Auc([0.9f, 0.8f, 0.7f, 0.6f, 0.6f], [1, 0, 1, 0, 1]), 12);
        Assert.Equal(1, Metrics.Auc([0.1f, 0.9f], [0, 1]), 12);
        Assert.Equal(0, Metrics.Auc([0.1f, 0.9f], [1, 0]), 12);
        Assert.True(double.IsNaN(Metrics.Auc([0.1f, 0.9f], [1, 1])));
    }

    [Fact]
    public void Log_loss_is_the_mean_binary_cross_entropy()
    {
        // -(ln 0.9 + ln 0.8) / 2
        Assert.Equal((0.10536051565782628 + 0.2231435513142097) / 2, Metrics.LogLoss([0.9f, 0.2f], [1, 0]), 6);
        // Clipping keeps a confident mistake finite: -ln(1e-7).
        Assert.Equal(16.11809565, Metrics.LogLoss([0f], [1]), 4);
    }
}
