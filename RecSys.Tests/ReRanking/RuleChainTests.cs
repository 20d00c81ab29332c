using RecSys.Catalog;
using RecSys.Features;
using RecSys.ReRanking;
using RecSys.ReRanking.Rules;
using RecSys.Retrieval;

namespace RecSys.Tests.ReRanking;

/// <summary>Each rule on crafted lists. Item i has score 1 - i/100 unless a test says otherwise, so the ranker's order is 0, 1, 2, ...</summary>
public class RuleChainTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    private sealed class World
    {
        public World(int n, int catalogSize = 0)
        {
            Columns = new ItemColumns(Math.Max(n, catalogSize));
            for (var i = 0; i < Columns.Count; i++)
            {
                Columns.CategoryIds[i] = i;
                Columns.AuthorIndices[i] = i;
                Columns.CreatedAtUnixSeconds[i] = Now.AddDays(-30).ToUnixTimeSeconds();
            }
            Scores = [.. Enumerable.Range(0, n).Select(i => 1f - i / 100f)];
            Sources = [.. Enumerable.Repeat(CandidateSource.Ann, n)];
            Stats = new ItemStats[n];
            Items = [.. Enumerable.Range(0, n)];
        }

        public ItemColumns Columns { get; }
        public int[] Items { get; }
        public float[] Scores { get; }
        public CandidateSource[] Sources { get; }
        public ItemStats[] Stats { get; }
        public ItemEmbeddings? Embeddings { get; init; }
        public float[] Query { get; init; } = [];
        public bool AllowNsfw { get; set; }
        public int[] Blocked { get; set; } = [];
        public HashSet<int> Seen { get; } = [];

        public (int[] Items, ReRankPick[] Picks, ReRankTrace Trace) Run(ChainReRanker reRanker, int count)
        {
            var order = Enumerable.Range(0, Items.Length).OrderByDescending(i => Scores[i]).ThenBy(i => i).ToArray();
            var input = new ReRankInput
            {
                Order = order, Items = Items, Scores = Scores, Sources = Sources, Stats = Stats, Count = count, Columns = Columns,
                Embeddings = Embeddings, QueryVector = Query, AllowNsfw = AllowNsfw, BlockedAuthors = Blocked, SeenItems = Seen, Now = Now,
            };
            var picks = new ReRankPick[count];
            var trace = new ReRankTrace();
            var picked = reRanker.ReRank(input, null, picks, trace);
            return ([.. picks[..picked].Select(p => p.Item)], picks[..picked], trace);
        }
    }

    private static ChainReRanker ReRanker(int window = 50, Func<string, int>? resolve = null, Random? random = null, params RuleOptions[] rules) =>
        new(new ReRankingOptions { Window = window, Rules = [.. rules] }, resolve ?? (_ => -1), random ?? new Random(1));

    private static int[] Run(World world, int count, params RuleOptions[] rules) => world.Run(ReRanker(50, null, null, rules), count).Items;

    [Fact]
    public void Category_cap_keeps_at_most_max_per_category_in_ranked_order()
    {
        var world = new World(10);
        for (var i = 0; i < 6; i++) world.Columns.CategoryIds[i] = 0;
        for (var i = 6; i < 10; i++) world.Columns.CategoryIds[i] = 1;
        Assert.Equal([0, 1, 2, 6, 7, 8], Run(world, 6, new RuleOptions { Type = "categoryCap", Max = 3 }));
    }

    [Fact]
    public void Caps_return_a_shorter_list_rather_than_break_the_cap()
    {
        var world = new World(5);
        Array.Fill(world.Columns.AuthorIndices, 9);
        Assert.Equal([0, 1], Run(world, 4, new RuleOptions { Type = "authorCap", Max = 2 }));
    }

    [Fact]
    public void A_soft_cap_moves_items_over_the_cap_last_instead_of_removing_them()
    {
        var world = new World(6);
        world.Columns.AuthorIndices[0] = world.Columns.AuthorIndices[1] = world.Columns.AuthorIndices[2] = 7;
        Assert.Equal([0, 1, 3, 4, 5, 2], Run(world, 6, new RuleOptions { Type = "authorCap", Max = 2, Soft = true }));
    }

    [Fact]
    public void When_the_window_runs_short_the_chain_reruns_on_a_larger_one()
    {
        // The first 60 items share a category: a window of 50 yields 3, so the chain must look further down.
        var world = new World(100);
        for (var i = 0; i < 60; i++) world.Columns.CategoryIds[i] = 0;
        Assert.Equal([0, 1, 2, 60, 61], Run(world, 5, new RuleOptions { Type = "categoryCap", Max = 3 }));
    }

    [Fact]
    public void Source_cap_limits_one_source()
    {
        var world = new World(6);
        world.Sources[0] = world.Sources[1] = world.Sources[2] = CandidateSource.Popular;
        Assert.Equal([0, 3, 4], Run(world, 3, new RuleOptions { Type = "sourceCap", Source = "popular", Max = 1 }));
    }

    [Fact]
    public void Source_minimum_promotes_the_best_items_of_the_source_into_the_list()
    {
        var world = new World(10);
        world.Sources[5] = world.Sources[7] = world.Sources[8] = CandidateSource.Social | CandidateSource.Ann;
        // Items 2 and 3 (the lowest of other sources) give way to 5 and 7; 0 and 1 keep their places.
        Assert.Equal([0, 1, 5, 7], Run(world, 4, new RuleOptions { Type = "sourceMinimum", Source = "social", Min = 2 }));
    }

    [Fact]
    public void Safety_removes_blocked_authors_and_disallowed_nsfw_and_demotes_allowed_nsfw()
    {
        var world = new World(6);
        world.Columns.Nsfw[0] = true;
        world.Blocked = [1];
        Assert.Equal([2, 3, 4], Run(world, 3, new RuleOptions { Type = "safety", Weight = 0.5 }));

        world.AllowNsfw = true;
        // Relevance over the window: item i is 1 - i/5; item 0 demoted by 0.5 falls below item 2 (0.6), stays above 3 (0.4).
        Assert.Equal([2, 0, 3, 4], Run(world, 4, new RuleOptions { Type = "safety", Weight = 0.5 }));
    }

    [Fact]
    public void Seen_items_are_removed()
    {
        var world = new World(5);
        world.Seen.UnionWith([0, 2]);
        Assert.Equal([1, 3, 4], Run(world, 3, new RuleOptions { Type = "seen" }));
    }

    [Fact]
    public void Freshness_lifts_a_new_item_by_a_boost_that_halves_with_age()
    {
        var world = new World(5);
        world.Columns.CreatedAtUnixSeconds[3] = Now.AddHours(-1).ToUnixTimeSeconds();
        var reRanker = ReRanker(50, null, null, new RuleOptions { Type = "freshness", HalfLifeHours = 24, Weight = 0.6 });
        var (items, picks, trace) = world.Run(reRanker, 5);
        Assert.Equal([0, 3, 1, 2, 4], items);
        Assert.Equal("freshness", Assert.Single(trace.RulesAt(1)).Name);
        Assert.Empty(trace.RulesAt(0));
        // Relevance 0.25 plus 0.6 x 2^(-1/24).
        Assert.Equal(0.25 + 0.6 * Math.Pow(2, -1 / 24.0), picks[1].Score, 4);

        world.Columns.CreatedAtUnixSeconds[3] = Now.AddHours(-96).ToUnixTimeSeconds(); // four half-lives: +0.0375, not enough
        Assert.Equal([0, 1, 2, 3, 4], world.Run(reRanker, 5).Items);
    }

    [Fact]
    public void Mmr_interleaves_a_different_item_when_lambda_weighs_diversity()
    {
        // Items 0-2 point the same way, item 3 the other way.
        var world = new World(4) { Embeddings = new ItemEmbeddings("t", 2, [1, 0, 1, 0.01f, 1, 0.02f, 0, 1]) };
        Assert.Equal([0, 3, 1, 2], Run(world, 4, new RuleOptions { Type = "mmr", Lambda = 0.5 }));
        Assert.Equal([0, 1, 2, 3], Run(world, 4, new RuleOptions { Type = "mmr", Lambda = 1.0 }));
    }

    [Fact]
    public void Pins_place_an_item_from_outside_the_candidates_when_it_clears_the_relevance_floor()
    {
        // 7 catalog items, 5 candidates. Item 5 (not a candidate) points like the query; item 6 does not.
        var world = new World(5, catalogSize: 7)
        {
            Embeddings = new ItemEmbeddings("t", 2, [1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1]),
            Query = [1, 0],
        };
        var resolve = (string id) => id switch { "i_5" => 5, "i_6" => 6, _ => -1 };
        var rule = new RuleOptions { Type = "pins", RelevanceFloor = 0.5, Pins = [new() { ItemId = "i_5", Position = 2 }, new() { ItemId = "i_6", Position = 1 }] };
        var (items, picks, trace) = world.Run(ReRanker(50, resolve, null, rule), 4);
        Assert.Equal([0, 5, 1, 2], items);
        Assert.Equal(-1, picks[1].Position);
        Assert.Equal("pins", Assert.Single(trace.RulesAt(1)).Name);
    }

    [Fact]
    public void Thompson_exploration_converges_to_the_better_of_two_items()
    {
        // Items 0-2 fill the list; 3 and 4 compete for the single exploration slot. Item 4 is clicked 30% of the time, 3 only 5%.
        var world = new World(5);
        var reRanker = ReRanker(50, null, new Random(3), new RuleOptions { Type = "explore", Slots = 1, Positions = [3], MaxImpressions = 100_000 });
        var rng = new Random(4);
        var late = new int[5];
        for (var round = 0; round < 3000; round++)
        {
            var shown = world.Run(reRanker, 3).Items[2];
            Assert.True(shown is 3 or 4, $"slot 3 showed {shown}");
            var p = shown == 4 ? 0.3 : 0.05;
            var s = world.Stats[shown];
            world.Stats[shown] = s with { Impressions = s.Impressions + 1, Clicks = s.Clicks + (rng.NextDouble() < p ? 1 : 0) };
            if (round >= 2500) late[shown]++;
        }
        Assert.True(late[4] > 450, $"the better item got {late[4]} of the last 500 slots");
        Assert.True(world.Stats[3].Impressions > 5, "the worse item was explored too");
    }

    [Fact]
    public void Exploration_skips_items_that_are_neither_fresh_nor_under_exposed()
    {
        var world = new World(5);
        for (var i = 0; i < 5; i++) world.Stats[i] = new ItemStats(1000, 10, 0, 0, 0, 0, 0);
        world.Stats[4] = new ItemStats(3, 0, 0, 0, 0, 0, 0);
        Assert.Equal([0, 4, 1], Run(world, 3, new RuleOptions { Type = "explore", Slots = 1, Positions = [2], MaxImpressions = 100, FreshHours = 1 }));
    }

    [Fact]
    public void The_chain_runs_in_order_and_the_trace_names_the_rules_that_moved_each_item()
    {
        var world = new World(8);
        world.Seen.Add(0);
        world.Columns.CategoryIds[1] = world.Columns.CategoryIds[2] = world.Columns.CategoryIds[3] = 1;
        world.Columns.CreatedAtUnixSeconds[6] = Now.ToUnixTimeSeconds();
        var reRanker = ReRanker(50, null, null,
            new RuleOptions { Type = "seen" }, new RuleOptions { Type = "categoryCap", Max = 2 }, new RuleOptions { Type = "freshness", Weight = 1, HalfLifeHours = 1 });
        var (items, _, trace) = world.Run(reRanker, 4);
        Assert.Equal([6, 1, 2, 4], items);
        Assert.Equal(["freshness"], trace.RulesAt(0).Select(r => r.Name));
        Assert.Empty(trace.RulesAt(1));
    }

    [Theory]
    [InlineData("bogus", "unknown Type")]
    [InlineData("sourceCap", "Source must be one of")]
    public void A_bad_rule_is_refused_naming_it(string type, string message)
    {
        var ex = Assert.Throws<ArgumentException>(() => ReRanker(50, null, null, new RuleOptions { Type = "seen" }, new RuleOptions { Type = type }));
        Assert.Contains("rule 1", ex.Message, StringComparison.Ordinal);
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }
}
