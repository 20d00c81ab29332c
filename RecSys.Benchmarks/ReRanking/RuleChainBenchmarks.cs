using BenchmarkDotNet.Attributes;
using RecSys.Catalog;
using RecSys.Features;
using RecSys.ReRanking;
using RecSys.ReRanking.Rules;
using RecSys.Retrieval;

namespace RecSys.Benchmarks.ReRanking;

/// <summary>
/// The shipped rule chain (appsettings.json: safety, seen, locale, freshness, category and author caps, MMR, social
/// minimum, one exploration slot) over 600 ranked candidates, window 50, 20 picked; 100k items with 32-d vectors, in 8
/// regions and 7 languages. The locale rule also carries two region restrictions and a local category, so that every
/// path of it runs.
/// </summary>
[MemoryDiagnoser]
public class RuleChainBenchmarks
{
    private ChainReRanker _reRanker = null!;
    private ItemColumns _columns = null!;
    private ItemEmbeddings _embeddings = null!;
    private int[] _items = null!;
    private int[] _order = null!;
    private float[] _scores = null!;
    private CandidateSource[] _sources = null!;
    private ItemStats[] _stats = null!;
    private float[] _query = null!;
    private readonly HashSet<int> _seen = [];
    private readonly ReRankPick[] _picks = new ReRankPick[20];
    private readonly DateTimeOffset _now = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    [Params(50, 200)]
    public int Window { get; set; }

    public static List<RuleOptions> ShippedRules() =>
    [
        new() { Type = "context", Weight = 0.5, LocaleWeight = 0.5 },
        new() { Type = "safety", Weight = 0.3 },
        new() { Type = "seen" },
        new() { Type = "locale", LanguageMode = "demote", Weight = 0.1, AcceptLanguages = ["en"] },
        new() { Type = "freshness", HalfLifeHours = 24, Weight = 0.1 },
        new() { Type = "categoryCap", Max = 3 },
        new() { Type = "authorCap", Max = 2, Soft = true },
        new() { Type = "mmr", Lambda = 0.8 },
        new() { Type = "sourceMinimum", Source = "social", Min = 2 },
        new() { Type = "explore", Slots = 1, Positions = [8], MaxImpressions = 100, FreshHours = 48 },
    ];

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(2);
        const int catalog = 100_000, dims = 32, n = 600;
        _columns = new ItemColumns(catalog);
        for (var i = 0; i < catalog; i++)
        {
            _columns.CategoryIds[i] = rng.Next(20);
            _columns.AuthorIndices[i] = rng.Next(20_000);
            _columns.CreatedAtUnixSeconds[i] = _now.AddHours(-rng.Next(24 * 30)).ToUnixTimeSeconds();
            _columns.Nsfw[i] = rng.NextDouble() < 0.05;
            _columns.RegionCodes[i] = (byte)rng.Next(Locales.Regions.Count);
            _columns.LanguageCodes[i] = (byte)rng.Next(Locales.Languages.Count);
        }
        var data = new float[catalog * dims];
        for (var i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() * 2 - 1);
        _embeddings = new ItemEmbeddings("bench", dims, data);
        _items = [.. Enumerable.Range(0, n).Select(_ => rng.Next(catalog)).Distinct()];
        _scores = [.. _items.Select(_ => (float)rng.NextDouble())];
        _sources = [.. _items.Select(_ => rng.NextDouble() < 0.1 ? CandidateSource.Social : CandidateSource.Ann)];
        _stats = [.. _items.Select(_ => new ItemStats(rng.Next(500), rng.Next(20), 0, 0, 0, 0, 0))];
        _order = [.. Enumerable.Range(0, _items.Length).OrderByDescending(i => _scores[i])];
        _query = [.. _embeddings.Vector(_items[0])];
        for (var i = 0; i < 30; i++) _seen.Add(_items[_order[rng.Next(100)]]);
        var rules = ShippedRules();
        var locale = rules.Single(r => r.Type == "locale");
        locale.Restrictions = [new() { Regions = ["us", "gb"], Categories = ["c3", "c7"] }, new() { Regions = ["de"], ItemIds = [.. _items.Take(40).Select(i => $"i_{i}")] }];
        locale.LocalCategories = ["c11"];
        _reRanker = new ChainReRanker(new ReRankingOptions { Window = Window, Rules = rules },
            id => int.Parse(id.AsSpan(2), System.Globalization.CultureInfo.InvariantCulture), new Random(5),
            name => int.Parse(name.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Benchmark]
    public int ShippedChain()
    {
        var input = new ReRankInput
        {
            Order = _order, Items = _items, Scores = _scores, Sources = _sources, Stats = _stats, Count = 20, Columns = _columns,
            Embeddings = _embeddings, QueryVector = _query, AllowNsfw = false, BlockedAuthors = [], SeenItems = _seen, Now = _now,
            RegionCode = Locales.RegionCode("us"), LanguageCode = Locales.LanguageCode("de"),
        };
        return _reRanker.ReRank(input, null, _picks);
    }
}
