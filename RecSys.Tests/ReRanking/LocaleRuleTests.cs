using RecSys.Catalog;
using RecSys.Features;
using RecSys.ReRanking;
using RecSys.ReRanking.Rules;
using RecSys.Retrieval;

namespace RecSys.Tests.ReRanking;

/// <summary>
/// The <c>locale</c> rule on crafted lists: item i has score 1 - i/100 (ranker order 0, 1, 2, ...), category i % 4
/// (names c0..c3), region <c>us</c> and language <c>en</c> unless a test says otherwise.
/// </summary>
public class LocaleRuleTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly byte Us = Locales.RegionCode("us"), Gb = Locales.RegionCode("gb"), Fr = Locales.RegionCode("fr");
    private static readonly byte En = Locales.LanguageCode("en"), De = Locales.LanguageCode("de");

    private sealed class World
    {
        public World(int n)
        {
            Columns = new ItemColumns(n);
            for (var i = 0; i < n; i++)
            {
                Columns.CategoryIds[i] = i % 4;
                Columns.AuthorIndices[i] = i;
                Columns.CreatedAtUnixSeconds[i] = Now.AddDays(-30).ToUnixTimeSeconds();
                Columns.RegionCodes[i] = Us;
                Columns.LanguageCodes[i] = En;
            }
            Scores = [.. Enumerable.Range(0, n).Select(i => 1f - i / 100f)];
            Items = [.. Enumerable.Range(0, n)];
        }

        public ItemColumns Columns { get; }
        public int[] Items { get; }
        public float[] Scores { get; }

        public (int[] Items, ReRankTrace Trace) Run(byte? region, byte? language, int count, params RuleOptions[] rules)
        {
            var reRanker = new ChainReRanker(new ReRankingOptions { Window = 50, Rules = [.. rules] },
                id => id.StartsWith("i_", StringComparison.Ordinal) ? int.Parse(id[2..], System.Globalization.CultureInfo.InvariantCulture) : -1,
                new Random(1), name => name.StartsWith('c') ? int.Parse(name[1..], System.Globalization.CultureInfo.InvariantCulture) : -1);
            var input = new ReRankInput
            {
                Order = Items, Items = Items, Scores = Scores, Sources = [.. Enumerable.Repeat(CandidateSource.Ann, Items.Length)],
                Stats = new ItemStats[Items.Length], Count = count, Columns = Columns, RegionCode = region, LanguageCode = language, Now = Now,
                AllowNsfw = true,
            };
            var picks = new ReRankPick[count];
            var trace = new ReRankTrace();
            var picked = reRanker.ReRank(input, null, picks, trace);
            return ([.. picks[..picked].Select(p => p.Item)], trace);
        }
    }

    private static RuleOptions Locale(string languageMode = "off", double weight = 0.1, string[]? accept = null, string[]? local = null, params RegionRestrictionOptions[] restrictions) =>
        new() { Type = "locale", LanguageMode = languageMode, Weight = weight, AcceptLanguages = [.. accept ?? []], LocalCategories = [.. local ?? []], Restrictions = [.. restrictions] };

    [Fact]
    public void Items_of_a_restricted_category_are_shown_only_to_users_in_its_regions()
    {
        var world = new World(8);
        var rule = Locale(restrictions: new RegionRestrictionOptions { Regions = ["gb", "fr"], Categories = ["c2"] });
        Assert.Equal([0, 1, 3, 4, 5, 7], world.Run(Us, En, 8, rule).Items);
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7], world.Run(Gb, En, 8, rule).Items);
        Assert.Equal([0, 1, 3, 4, 5, 7], world.Run(null, En, 8, rule).Items); // unknown region: restricted items are not shown
        var (_, trace) = world.Run(Us, En, 8, rule);
        Assert.Empty(trace.RulesAt(0));
    }

    [Fact]
    public void Restricted_items_by_id_and_several_restrictions_must_all_allow_the_users_region()
    {
        var world = new World(8);
        var rule = Locale(restrictions:
        [
            new RegionRestrictionOptions { Regions = ["us", "gb"], ItemIds = ["i_1", "i_6"] },
            new RegionRestrictionOptions { Regions = ["gb"], ItemIds = ["i_6"] },
        ]);
        Assert.Equal([0, 1, 2, 3, 4, 5, 7], world.Run(Us, En, 8, rule).Items); // i_6 needs gb too
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7], world.Run(Gb, En, 8, rule).Items);
        Assert.Equal([0, 2, 3, 4, 5, 7], world.Run(Fr, En, 8, rule).Items);
    }

    [Fact]
    public void Local_categories_are_shown_only_in_the_items_own_region()
    {
        var world = new World(8);
        world.Columns.RegionCodes[3] = Fr; // category 3 items: 3 (fr) and 7 (us)
        var rule = Locale(local: ["c3"]);
        Assert.Equal([0, 1, 2, 4, 5, 6, 7], world.Run(Us, En, 8, rule).Items);
        Assert.Equal([0, 1, 2, 3, 4, 5, 6], world.Run(Fr, En, 8, rule).Items);
        Assert.Equal([0, 1, 2, 4, 5, 6], world.Run(null, En, 8, rule).Items);
    }

    [Fact]
    public void Items_out_of_the_users_language_are_demoted_and_marked_unless_accepted()
    {
        var world = new World(8);
        world.Columns.LanguageCodes[5] = De;
        world.Columns.LanguageCodes[6] = De;
        // A German reader: relevance is the score scaled to [0, 1] over the window; English items lose 1, so German ones lead.
        var (items, trace) = world.Run(Us, De, 8, Locale("demote", 1.0));
        Assert.Equal([5, 6, 0, 1, 2, 3, 4, 7], items);
        Assert.Empty(trace.RulesAt(0));
        Assert.Equal("locale", Assert.Single(trace.RulesAt(2)).Name);
        // English accepted by everyone: nothing moves.
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7], world.Run(Us, De, 8, Locale("demote", 1.0, ["en"])).Items);
        // Unknown language: no language rule.
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7], world.Run(Us, null, 8, Locale("demote", 1.0)).Items);
        // An English reader: the German items sink.
        Assert.Equal([0, 1, 2, 3, 4, 7, 5, 6], world.Run(Us, En, 8, Locale("demote", 1.0)).Items);
    }

    [Fact]
    public void Remove_mode_drops_items_out_of_the_users_language()
    {
        var world = new World(8);
        world.Columns.LanguageCodes[1] = De;
        world.Columns.LanguageCodes[4] = De;
        Assert.Equal([1, 4], world.Run(Us, De, 8, Locale("remove")).Items);
        Assert.Equal([0, 2, 3, 5, 6, 7], world.Run(Us, En, 8, Locale("remove")).Items);
    }

    [Fact]
    public void Pins_and_exploration_cannot_bring_in_an_item_the_locale_rule_forbids()
    {
        var world = new World(40);
        var restrict = Locale(restrictions: new RegionRestrictionOptions { Regions = ["gb"], ItemIds = ["i_30", "i_31"] });
        var pins = new RuleOptions { Type = "pins", RelevanceFloor = -1, Pins = [new() { ItemId = "i_30", Position = 1 }] };
        Assert.Equal(0, world.Run(Us, En, 5, restrict, pins).Items[0]);
        Assert.Equal(30, world.Run(Gb, En, 5, restrict, pins).Items[0]);

        // Exploration over a window of 20 of 40: only i_30 and i_31 are fresh, and neither may be shown in the us.
        world.Columns.CreatedAtUnixSeconds[30] = Now.AddHours(-1).ToUnixTimeSeconds();
        world.Columns.CreatedAtUnixSeconds[31] = Now.AddHours(-1).ToUnixTimeSeconds();
        var explore = new RuleOptions { Type = "explore", Slots = 1, Positions = [2], MaxImpressions = 0, FreshHours = 2 };
        Assert.Equal([0, 1, 2, 3, 4], world.Run(Us, En, 5, restrict, explore).Items);
        Assert.Contains(world.Run(Gb, En, 5, restrict, explore).Items[1], new[] { 30, 31 });
    }

    [Theory]
    [InlineData("zz", null, "region 'zz' is not a known region")]
    [InlineData("gb", "xx", "AcceptLanguages: 'xx' is not a known language")]
    public void A_bad_locale_rule_is_refused_naming_the_value(string region, string? language, string expected)
    {
        var rule = Locale(accept: language is null ? null : [language], restrictions: new RegionRestrictionOptions { Regions = [region], Categories = ["c1"] });
        var ex = Assert.Throws<ArgumentException>(() => new ChainReRanker(new ReRankingOptions { Rules = [rule] }, _ => -1));
        Assert.Contains("ReRanking rule 0 (locale)", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }
}
