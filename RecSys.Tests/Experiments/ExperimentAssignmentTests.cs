using Microsoft.Extensions.Options;
using RecSys.Experiments;
using RecSys.Experiments.Assignment;
using RecSys.ReRanking;
using RecSys.ReRanking.Rules;

namespace RecSys.Tests.Experiments;

public class ExperimentAssignmentTests
{
    private static HashedExperiments Create(double share, string salt = "s1", params (string Name, double Weight)[] variants)
    {
        var options = new ExperimentsOptions
        {
            Running = [new ExperimentOptions
            {
                Name = "exp", Salt = salt, TrafficShare = share,
                Variants = [.. variants.Select(v => new VariantOptions
                {
                    Name = v.Name, Weight = v.Weight,
                    ReRankingRules = v.Name == "b" ? [new RuleOptions { Type = "mmr", Lambda = 0.5 }] : [],
                })],
            }],
        };
        return new HashedExperiments(Options.Create(options), new ChainReRanker(new ReRankingOptions(), _ => -1));
    }

    [Fact]
    public void Traffic_share_and_variant_weights_hold_within_one_percent_on_100k_ids()
    {
        var experiments = Create(0.3, "s1", ("a", 1), ("b", 3));
        int inside = 0, b = 0;
        for (var i = 0; i < 100_000; i++)
        {
            var assignment = experiments.Assign($"u_{i}");
            if (assignment is null) continue;
            inside++;
            if (assignment.Variant == "b") b++;
        }
        Assert.InRange(inside / 100_000.0, 0.29, 0.31);
        Assert.InRange(b / (double)inside, 0.74, 0.76);
    }

    [Fact]
    public void Assignment_is_stable_and_the_salt_reshuffles_it()
    {
        var first = Create(0.5, "s1", ("a", 1), ("b", 1));
        var again = Create(0.5, "s1", ("a", 1), ("b", 1));
        var other = Create(0.5, "s2", ("a", 1), ("b", 1));
        var ids = Enumerable.Range(0, 2000).Select(i => $"u_{i}").ToArray();
        Assert.Equal(ids.Select(id => first.Assign(id)?.Label), ids.Select(id => again.Assign(id)?.Label));
        var differ = ids.Count(id => first.Assign(id)?.Label != other.Assign(id)?.Label);
        Assert.InRange(differ, 700, 1300); // independent halves-of-halves: about 5/8 of 2000 differ
    }

    [Fact]
    public void Variants_carry_their_compiled_chain_and_can_be_found_by_label()
    {
        var experiments = Create(1, "s1", ("a", 1), ("b", 1));
        Assert.Null(experiments.Find("exp/a")!.ReRanking);
        Assert.Equal(["mmr"], experiments.Find("exp/b")!.ReRanking!.Descriptions.Select(d => d.Name));
        Assert.Null(experiments.Find("exp/c"));
        Assert.NotNull(experiments.Assign("anyone"));
    }

    [Fact]
    public void Variant_retrieval_counts_reach_the_assignment_and_bad_ones_stop_start_up()
    {
        VariantOptions Variant(string name, int? ann, int? popular) => new() { Name = name, Weight = 1, AnnCount = ann, PopularCount = popular };
        var options = new ExperimentsOptions
        {
            Running = [new ExperimentOptions { Name = "k", Salt = "s", TrafficShare = 1, Variants = [Variant("wide", 900, 0), Variant("zero", 0, -1)] }],
        };
        var reRanker = new ChainReRanker(new ReRankingOptions(), _ => -1);

        var wide = new HashedExperiments(Options.Create(options), reRanker).Find("k/wide");
        Assert.Equal((900, 0), (wide!.AnnCount, wide.PopularCount));

        var result = new ExperimentsValidator(reRanker).Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains("'zero'", StringComparison.Ordinal) && f.Contains("AnnCount", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("'zero'", StringComparison.Ordinal) && f.Contains("PopularCount", StringComparison.Ordinal));
        Assert.DoesNotContain(result.Failures!, f => f.Contains("'wide'", StringComparison.Ordinal));
    }
}
