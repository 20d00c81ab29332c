using Microsoft.Extensions.Options;
using RecSys.Catalog;
using RecSys.Retrieval;

namespace RecSys.ReRanking.Rules;

/// <summary>Runs a compiled rule chain over the ranker's top window; allocates nothing per request (the working list is per thread).</summary>
internal sealed class ChainReRanker : IReRanker
{
    private static readonly string[] SourceNames = ["ann", "item2item", "social", "trending", "fresh", "popular"];
    private readonly Func<string, int> _resolve;
    private readonly Func<string, int> _resolveCategory;
    private readonly int _window;

    public ChainReRanker(IOptions<ReRankingOptions> options, ICatalog catalog)
        : this(options.Value, id => catalog.IsLoaded && catalog.TryGetItem(id, out var item) ? item.Index : -1, null, new CatalogCategoryIndex(catalog).Resolve)
    {
    }

    /// <param name="resolve">Item id to item index, -1 when unknown.</param>
    /// <param name="resolveCategory">Category name to category id, -1 when unknown (none: every name is unknown).</param>
    internal ChainReRanker(ReRankingOptions options, Func<string, int> resolve, Random? random = null, Func<string, int>? resolveCategory = null)
    {
        _resolve = resolve;
        _resolveCategory = resolveCategory ?? (_ => -1);
        _window = options.Window;
        Random = random ?? Random.Shared;
        Default = Compile(options.Rules.Count == 0 ? DefaultRules() : options.Rules);
    }

    /// <summary>The randomness of exploration (seeded in tests).</summary>
    internal Random Random { get; }

    public ReRankChain Default { get; }

    /// <summary>The chain used when the section lists no rules.</summary>
    internal static List<RuleOptions> DefaultRules() =>
        [new() { Type = "context", Weight = 0.5, LocaleWeight = 0.5 }, new() { Type = "safety", Weight = 0.3 }, new() { Type = "seen" }, new() { Type = "categoryCap", Max = 3 }];

    public ReRankChain Compile(IReadOnlyList<RuleOptions> rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        if (rules.Count > 64) throw new ArgumentException($"ReRanking: at most 64 rules, got {rules.Count}.", nameof(rules));
        var compiled = new IReRankRule[rules.Count];
        for (var i = 0; i < rules.Count; i++) compiled[i] = Build(rules[i], i);
        return new ReRankChain(compiled, _window);
    }

    private IReRankRule Build(RuleOptions o, int index)
    {
        string Where() => $"ReRanking rule {index} ({o.Type})";
        void Check(bool ok, string what)
        {
            if (!ok) throw new ArgumentException($"{Where()}: {what}");
        }
        switch (o.Type.ToLowerInvariant())
        {
            case "safety":
                Check(o.Weight >= 0, "Weight (NSFW demotion) must be >= 0.");
                return new SafetyRule(o.Weight);
            case "seen":
                return new SeenRule();
            case "locale":
                return Locale(o, Check);
            case "context":
                Check(o.Weight >= 0, "Weight must be >= 0.");
                Check(o.LocaleWeight >= 0, "LocaleWeight must be >= 0.");
                return new ContextRule(o.Weight, o.LocaleWeight);
            case "freshness":
                Check(o.HalfLifeHours > 0, "HalfLifeHours must be > 0.");
                Check(o.Weight >= 0, "Weight must be >= 0.");
                return new FreshnessRule(o.HalfLifeHours, o.Weight);
            case "categorycap":
                Check(o.Max >= 1, "Max must be >= 1.");
                return new CapRule(CapKey.Category, o.Max, o.Soft);
            case "authorcap":
                Check(o.Max >= 1, "Max must be >= 1.");
                return new CapRule(CapKey.Author, o.Max, o.Soft);
            case "sourcecap":
                Check(o.Max >= 1, "Max must be >= 1.");
                return new SourceCapRule(Source(o, Where()), o.Source!, o.Max);
            case "sourceminimum":
                Check(o.Min >= 0, "Min must be >= 0.");
                return new SourceMinimumRule(Source(o, Where()), o.Source!, o.Min);
            case "mmr":
                Check(o.Lambda is >= 0 and <= 1, "Lambda must be in [0, 1].");
                return new MmrRule(o.Lambda);
            case "pins":
                Check(o.Pins.Count <= RuleList.MaxExternal, $"at most {RuleList.MaxExternal} pins.");
                Check(o.Pins.All(p => !string.IsNullOrWhiteSpace(p.ItemId) && p.Position >= 1), "every pin needs an ItemId and a Position >= 1.");
                return new PinsRule([.. o.Pins.OrderBy(p => p.Position).Select(p => (p.ItemId, p.Position))], o.RelevanceFloor, _resolve);
            case "explore":
                Check(o.Slots is >= 0 and <= ExploreRule.MaxSlots, $"Slots must be 0 to {ExploreRule.MaxSlots}.");
                Check(o.Positions.All(p => p >= 1), "Positions are 1-based.");
                return new ExploreRule(o.Slots, [.. o.Positions], o.MaxImpressions, o.FreshHours, Random);
            default:
                throw new ArgumentException($"{Where()}: unknown Type; known: context, safety, seen, locale, freshness, categoryCap, authorCap, sourceCap, sourceMinimum, mmr, pins, explore.");
        }
    }

    private LocaleRule Locale(RuleOptions o, Action<bool, string> check)
    {
        var mode = (o.LanguageMode ?? "").ToLowerInvariant() switch
        {
            "off" => LanguageMode.Off,
            "demote" => LanguageMode.Demote,
            "remove" => LanguageMode.Remove,
            _ => (LanguageMode)(-1),
        };
        check(mode >= 0, $"LanguageMode must be off, demote or remove; got '{o.LanguageMode}'.");
        check(o.Weight >= 0, "Weight (language demotion) must be >= 0.");
        check(o.Restrictions.Count <= 62, "at most 62 Restrictions.");
        var accept = new List<byte>();
        foreach (var language in o.AcceptLanguages)
        {
            var code = Locales.LanguageCode(language);
            check(code != Locales.Unknown, $"AcceptLanguages: '{language}' is not a known language ({string.Join(", ", Locales.Languages)}).");
            accept.Add(code);
        }
        var restrictions = new List<(byte[], string[], string[])>();
        for (var r = 0; r < o.Restrictions.Count; r++)
        {
            var restriction = o.Restrictions[r];
            check(restriction.Regions.Count > 0, $"Restrictions {r}: Regions is required (the regions that may see the items).");
            check(restriction.Categories.Count + restriction.ItemIds.Count > 0, $"Restrictions {r}: name Categories or ItemIds.");
            var regions = new List<byte>();
            foreach (var region in restriction.Regions)
            {
                var code = Locales.RegionCode(region);
                check(code != Locales.Unknown, $"Restrictions {r}: region '{region}' is not a known region ({string.Join(", ", Locales.Regions)}).");
                regions.Add(code);
            }
            restrictions.Add(([.. regions], [.. restriction.Categories], [.. restriction.ItemIds]));
        }
        return new LocaleRule(restrictions, o.LocalCategories, mode, o.Weight, accept, _resolve, _resolveCategory);
    }

    private static CandidateSource Source(RuleOptions o, string where)
    {
        var bit = Array.FindIndex(SourceNames, n => string.Equals(n, o.Source, StringComparison.OrdinalIgnoreCase));
        if (bit < 0) throw new ArgumentException($"{where}: Source must be one of {string.Join(", ", SourceNames)}; got '{o.Source}'.");
        return (CandidateSource)(1 << bit);
    }

    private static void Run(in ReRankInput input, ReRankChain chain, RuleList list, int window, int target)
    {
        var n = input.Order.Length;
        list.Reset(n, window, target);

        // Relevance: the ranker's score scaled to [0, 1] over the window (positions below it may fall under 0).
        var min = float.PositiveInfinity;
        var max = float.NegativeInfinity;
        for (var p = 0; p < window; p++)
        {
            var s = input.Scores[input.Order[p]];
            if (float.IsNaN(s)) continue;
            min = Math.Min(min, s);
            max = Math.Max(max, s);
        }
        var range = max > min ? max - min : 1f;
        if (float.IsInfinity(min)) min = 0;
        var relevance = list.Relevance;
        for (var p = 0; p < n; p++)
        {
            var s = input.Scores[input.Order[p]];
            relevance[p] = float.IsNaN(s) ? 0 : (s - min) / range;
        }

        list.Gates = chain.Gates;
        var rules = chain.RuleList;
        for (var i = 0; i < rules.Count; i++) rules[i].Apply(input, list, 1UL << i);
    }

    public int ReRank(in ReRankInput input, ReRankChain? chain, Span<ReRankPick> picks, ReRankTrace? trace = null)
    {
        chain ??= Default;
        var n = input.Order.Length;
        var window = Math.Min(chain.Window, n);
        var list = RuleList.ForThisThread();
        var target = Math.Min(input.Count, picks.Length);
        // Hard rules (caps, safety, seen) can leave fewer than asked for; the chain then reruns on a window twice as
        // large, so a degenerate window (say, one category) still fills the list when the candidates allow.
        while (true)
        {
            Run(input, chain, list, window, target);
            if (list.Length >= target || window >= n) break;
            window = Math.Min(n, window * 2);
        }

        var picked = Math.Min(list.Length, list.Target);
        if (trace is not null) trace.Chain = chain;
        for (var rank = 0; rank < picked; rank++)
        {
            var value = list.Slots[rank];
            picks[rank] = value < n
                ? new ReRankPick(input.Items[input.Order[value]], value, list.Relevance[value])
                : new ReRankPick(list.ExternalItem(value), -1, list.Relevance[value]);
            trace?.Set(rank, list.Marks[value]);
        }
        return picked;
    }
}
