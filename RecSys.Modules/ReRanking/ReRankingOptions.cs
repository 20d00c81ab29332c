using System.ComponentModel.DataAnnotations;

namespace RecSys.ReRanking;

/// <summary>Options of the <c>ReRanking</c> section: the rule chain, run in order over the ranker's top <see cref="Window"/>.</summary>
public sealed class ReRankingOptions
{
    public const string SectionName = "ReRanking";

    /// <summary>How many of the ranker's best items the rules work on.</summary>
    [Range(1, 1000)]
    public int Window { get; set; } = 50;

    /// <summary>
    /// The rules, in order. Empty means the minimal chain <c>context, safety, seen, categoryCap(3)</c>; the shipped
    /// <c>appsettings.json</c> lists the full chain. (A default list here would be appended to by the configuration
    /// binder, so the fallback lives in code instead.)
    /// </summary>
    public List<RuleOptions> Rules { get; set; } = [];
}

/// <summary>
/// One rule of the chain. <see cref="Type"/> picks the rule; each rule reads only the parameters named in its doc.
/// <list type="bullet">
/// <item><c>context</c>: for cold-start users only, adds <see cref="Weight"/> x cosine(context query vector, item), plus
/// <see cref="LocaleWeight"/> for the request's language and half of it for its region, to the relevance of every candidate
/// and re-selects the window, so declared interests and locale reorder the popular candidates.</item>
/// <item><c>safety</c>: removes NSFW items for users who disallow them and items by blocked authors; demotes NSFW by <see cref="Weight"/> otherwise.</item>
/// <item><c>seen</c>: removes items served to the user within <c>Features:SeenWindowMinutes</c>.</item>
/// <item><c>locale</c>: region and language rules. Items matched by a <see cref="Restrictions"/> entry are shown only to
/// users in its regions; items of <see cref="LocalCategories"/> only to users in the item's own region; items in neither
/// the user's language nor <see cref="AcceptLanguages"/> are demoted by <see cref="Weight"/> or removed (<see cref="LanguageMode"/>).</item>
/// <item><c>freshness</c>: adds <see cref="Weight"/> x 2^(-age / <see cref="HalfLifeHours"/>) to the relevance.</item>
/// <item><c>categoryCap</c>, <c>authorCap</c>: at most <see cref="Max"/> items per category / author; with <see cref="Soft"/>,
/// items over the cap go last instead of being removed.</item>
/// <item><c>sourceCap</c>: at most <see cref="Max"/> items found by <see cref="Source"/>.</item>
/// <item><c>sourceMinimum</c>: at least <see cref="Min"/> items found by <see cref="Source"/> in the list, when available.</item>
/// <item><c>mmr</c>: maximal marginal relevance over item vectors, <see cref="Lambda"/> x relevance - (1 - lambda) x max similarity.</item>
/// <item><c>pins</c>: puts <see cref="Pins"/> at their positions when their relevance reaches <see cref="RelevanceFloor"/>.</item>
/// <item><c>explore</c>: <see cref="Slots"/> slots at <see cref="Positions"/> filled by Thompson sampling over
/// Beta(clicks + 1, non-click impressions + 1) among items under <see cref="MaxImpressions"/> impressions or younger than <see cref="FreshHours"/>.</item>
/// </list>
/// </summary>
public sealed class RuleOptions
{
    [Required]
    public string Type { get; set; } = "";

    [Range(0.0, 1.0)]
    public double Lambda { get; set; } = 0.7;

    [Range(1, 1000)]
    public int Max { get; set; } = 3;

    [Range(0, 1000)]
    public int Min { get; set; } = 2;

    /// <summary><c>categoryCap</c>, <c>authorCap</c>: move items over the cap below the others instead of removing them.</summary>
    public bool Soft { get; set; }

    /// <summary>A source name: <c>ann</c>, <c>item2item</c>, <c>social</c>, <c>trending</c>, <c>fresh</c>, <c>popular</c>.</summary>
    public string? Source { get; set; }

    [Range(0.01, 100_000)]
    public double HalfLifeHours { get; set; } = 24;

    [Range(0.0, 10.0)]
    public double Weight { get; set; } = 0.1;

    /// <summary><c>context</c>: bonus for an item in the request's language (half of it for its region).</summary>
    [Range(0.0, 10.0)]
    public double LocaleWeight { get; set; } = 0.5;

    public List<PinOptions> Pins { get; set; } = [];

    /// <summary><c>locale</c>: items (by category or id) shown only to users in given regions.</summary>
    public List<RegionRestrictionOptions> Restrictions { get; set; } = [];

    /// <summary><c>locale</c>: category names whose items are shown only to users in the item's own region (local news, offers).</summary>
    public List<string> LocalCategories { get; set; } = [];

    /// <summary><c>locale</c>: what happens to an item in neither the user's language nor <see cref="AcceptLanguages"/>: <c>demote</c> (by <see cref="Weight"/>), <c>remove</c> or <c>off</c>.</summary>
    public string LanguageMode { get; set; } = "demote";

    /// <summary><c>locale</c>: languages every user accepts besides their own (e.g. <c>en</c>).</summary>
    public List<string> AcceptLanguages { get; set; } = [];

    [Range(-1.0, 1.0)]
    public double RelevanceFloor { get; set; } = 0.2;

    [Range(0, 10)]
    public int Slots { get; set; } = 1;

    /// <summary>1-based positions of the exploration slots; when fewer than <see cref="Slots"/>, the rest go last.</summary>
    public List<int> Positions { get; set; } = [];

    [Range(0, int.MaxValue)]
    public int MaxImpressions { get; set; } = 100;

    [Range(0.0, 100_000)]
    public double FreshHours { get; set; } = 48;
}

/// <summary>An item pinned at a 1-based position.</summary>
public sealed class PinOptions
{
    [Required]
    public string ItemId { get; set; } = "";

    [Range(1, 100)]
    public int Position { get; set; } = 1;
}

/// <summary>
/// A <c>locale</c> restriction: items of <see cref="Categories"/> (names) or with one of <see cref="ItemIds"/> are shown only
/// to users whose region (the request's, else the profile's) is one of <see cref="Regions"/>; users of unknown region do not see them.
/// </summary>
public sealed class RegionRestrictionOptions
{
    public List<string> Regions { get; set; } = [];

    public List<string> Categories { get; set; } = [];

    public List<string> ItemIds { get; set; } = [];
}
