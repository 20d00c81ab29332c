using RecSys.Catalog;
using RecSys.Features;
using RecSys.Retrieval;

namespace RecSys.ReRanking;

/// <summary>
/// Stage 5 of the funnel: runs an ordered chain of rules over the ranker's top <see cref="ReRankingOptions.Window"/>
/// and picks the final list into <c>picks</c>, best first, and returns how many were picked.
/// </summary>
public interface IReRanker
{
    /// <summary>The chain configured in the <c>ReRanking</c> section.</summary>
    ReRankChain Default { get; }

    /// <summary>Builds a chain from rule options (an experiment variant's override); throws <see cref="ArgumentException"/> naming a bad rule.</summary>
    ReRankChain Compile(IReadOnlyList<RuleOptions> rules);

    /// <param name="chain">The chain to run; null runs <see cref="Default"/>.</param>
    /// <param name="trace">Filled with the rules that moved each chosen item; null (the default) costs nothing.</param>
    int ReRank(in ReRankInput input, ReRankChain? chain, Span<ReRankPick> picks, ReRankTrace? trace = null);
}

/// <summary>
/// One request's ranked candidates. The candidate arrays are indexed by candidate; <see cref="Order"/> lists candidates
/// best first (the ranker's order). <see cref="Stats"/> may be empty (exploration then sees every item as unexposed).
/// </summary>
public readonly ref struct ReRankInput
{
    public ReadOnlySpan<int> Order { get; init; }
    public ReadOnlySpan<int> Items { get; init; }
    public ReadOnlySpan<float> Scores { get; init; }
    public ReadOnlySpan<CandidateSource> Sources { get; init; }
    public ReadOnlySpan<ItemStats> Stats { get; init; }

    /// <summary>How many items the caller wants.</summary>
    public int Count { get; init; }

    public required ItemColumns Columns { get; init; }

    /// <summary>Item vectors (MMR, pins' relevance); rules that need them are skipped when null.</summary>
    public ItemEmbeddings? Embeddings { get; init; }

    /// <summary>The user's query vector (for a cold-start user, the one <see cref="ColdStartQuery"/> built from context); empty when none.</summary>
    public ReadOnlySpan<float> QueryVector { get; init; }

    /// <summary>True when the user has no history (the candidates are non-personal; the <c>context</c> rule blends in <see cref="QueryVector"/>).</summary>
    public bool ColdStart { get; init; }

    /// <summary>The request's region and language codes (<see cref="Locales"/>); null when unknown.</summary>
    public byte? RegionCode { get; init; }

    public byte? LanguageCode { get; init; }

    public bool AllowNsfw { get; init; }

    /// <summary>Sorted author indices the user blocked.</summary>
    public int[]? BlockedAuthors { get; init; }

    /// <summary>Items served to this user within the seen window.</summary>
    public IReadOnlySet<int>? SeenItems { get; init; }

    public DateTimeOffset Now { get; init; }

    /// <summary>True when the safety and seen rules would let <paramref name="item"/> through (pins and exploration insert items themselves).</summary>
    public bool IsAllowed(int item) => IsAllowedBySafety(item) && (SeenItems is null || !SeenItems.Contains(item));

    /// <summary>False for NSFW items when the user disallows them and for items by blocked authors.</summary>
    public bool IsAllowedBySafety(int item)
    {
        if (!AllowNsfw && Columns.Nsfw[item]) return false;
        return BlockedAuthors is not { Length: > 0 } blocked || Array.BinarySearch(blocked, Columns.AuthorIndices[item]) < 0;
    }
}

/// <summary>One picked item.</summary>
/// <param name="Item">The item index.</param>
/// <param name="Position">Its 0-based position in the ranker's order, or -1 when a rule brought it in from outside the candidates (a pin).</param>
/// <param name="Score">Its relevance after the rules: the ranker's score scaled to [0, 1] over the window, plus boosts, minus demotions.</param>
public readonly record struct ReRankPick(int Item, int Position, float Score);

/// <summary>A compiled, immutable rule chain; reuse it across requests.</summary>
public sealed class ReRankChain
{
    internal ReRankChain(IReadOnlyList<Rules.IReRankRule> rules, int window)
    {
        RuleList = rules;
        Gates = [.. rules.OfType<Rules.IItemGate>()];
        Window = window;
        Descriptions = [.. rules.Select(r => new RuleDescription(r.Name, r.Why))];
    }

    internal IReadOnlyList<Rules.IReRankRule> RuleList { get; }

    /// <summary>The rules that veto items wherever they come from (pins and exploration ask them).</summary>
    internal Rules.IItemGate[] Gates { get; }

    /// <summary>How many of the ranker's best items the rules work on.</summary>
    public int Window { get; }

    /// <summary>The rules in order, with what each does (bit <c>i</c> of a trace mask is rule <c>i</c>).</summary>
    public IReadOnlyList<RuleDescription> Descriptions { get; }
}

/// <summary>A rule's name (its configured <c>Type</c>) and a sentence with its parameters.</summary>
public sealed record RuleDescription(string Name, string Why);

/// <summary>
/// Filled by <see cref="IReRanker.ReRank"/> when explanations are asked for: for each chosen rank, the rules that moved
/// the item (bit <c>i</c> = rule <c>i</c> of the chain).
/// </summary>
public sealed class ReRankTrace
{
    private ulong[] _masks = [];

    public ReRankChain? Chain { get; internal set; }

    internal void Set(int rank, ulong mask)
    {
        if (_masks.Length <= rank) Array.Resize(ref _masks, Math.Max(rank + 1, 32));
        _masks[rank] = mask;
    }

    /// <summary>The rules that moved the item chosen at <paramref name="rank"/> (0-based).</summary>
    public IReadOnlyList<RuleDescription> RulesAt(int rank)
    {
        if (Chain is null || rank >= _masks.Length || _masks[rank] == 0) return [];
        var rules = new List<RuleDescription>(2);
        for (var bit = 0; bit < Chain.Descriptions.Count; bit++)
        {
            if ((_masks[rank] & (1UL << bit)) != 0) rules.Add(Chain.Descriptions[bit]);
        }
        return rules;
    }
}
