using System.Globalization;
using System.Text.Json;
using RecSys.Features;
using System.Numerics.Tensors;
using RecSys.Training.Baselines;

namespace RecSys.Training;

/// <summary>
/// A model version written by <see cref="Trainer"/>, loaded for offline recommendation (the <c>recommend</c> verb).
/// When the version has rankers (<c>manifest.json</c>, <c>rankers.json</c>, <c>funnel_state.json</c>) a list is the
/// funnel's, the same stages the evaluation's funnel row measures: the query vector is the fold-in of the user's recent
/// items as the manifest says, candidates are the ANN top <see cref="FunnelOptions.AnnCount"/> plus the popular quota
/// (known items excluded), the serving feature assembler fills the rows from the log's state at its end, the pre-ranker
/// keeps <see cref="FunnelOptions.PreRankKeep"/> and the ranker orders them (the networks as the exported ONNX models
/// compute them). Without rankers it is the retrieval stage alone (inner product with the trained user vector). Users
/// without a vector get the most popular items.
/// </summary>
public sealed class TrainedModel
{
    private readonly Dictionary<string, int> _userIndex;
    private readonly int[][] _known;
    private readonly int[] _popular;
    private Funnel? _funnel;

    /// <summary>The funnel's parts when the version has rankers.</summary>
    private sealed record Funnel(AlsModel FoldIn, float Strength, int History, DenseNetwork PreRanker, DenseNetwork Ranker, IReadOnlyList<double> RankerWeights, FeatureSchema Schema,
        RecSys.Training.Funnel.FunnelState State, RecSys.Training.PointInTime.DatasetCatalog Catalog, Func<int, RecSys.Catalog.SocialContext> Social, FunnelOptions Stages, double HotItemTrendScore);

    /// <summary>One per thread and model: the funnel's buffers.</summary>
    private sealed class Worker(TrainedModel model, Funnel f)
    {
        public TrainedModel Model { get; } = model;
        public bool[] Excluded { get; } = new bool[f.FoldIn.Items];
        public float[] Query { get; } = new float[f.FoldIn.Factors];
        public RecSys.Training.Funnel.OfflineCandidates Candidates { get; } = new(f.FoldIn.ItemFactors, f.FoldIn.Items, f.FoldIn.Factors, f.Stages.AnnCount, f.Stages.PopularCount);
        public RecSys.Training.Funnel.FunnelStages Stages { get; } = new(f.PreRanker, f.Ranker, f.Schema.Names.ToList(), f.Stages.PreRankKeep, f.RankerWeights);
        public FeatureAssembler Assembler { get; } = new(f.Schema, f.HotItemTrendScore);
        public float[] Rows { get; set; } = [];
        public float[] PreScores { get; set; } = [];
        public float[] RankerScores { get; set; } = [];
        public int[] Order { get; set; } = [];
        public ItemStats[] Stats { get; set; } = [];
    }

    [ThreadStatic]
    private static Worker? t_worker;

    private TrainedModel(string directory, string[] itemIds, string[] userIds, float[] items, float[] users, int dimensions, int[][] known)
    {
        Directory = directory;
        ItemIds = itemIds;
        UserIds = userIds;
        ItemVectors = items;
        UserVectors = users;
        Dimensions = dimensions;
        _known = known;
        _userIndex = new Dictionary<string, int>(userIds.Length, StringComparer.Ordinal);
        for (var u = 0; u < userIds.Length; u++) _userIndex[userIds[u]] = u;
        var counts = new int[itemIds.Length];
        foreach (var row in known) foreach (var i in row) counts[i]++;
        _popular = Enumerable.Range(0, itemIds.Length).OrderByDescending(i => counts[i]).ThenBy(i => i).ToArray();
    }

    public string Directory { get; }
    public IReadOnlyList<string> ItemIds { get; }
    public IReadOnlyList<string> UserIds { get; }
    public float[] ItemVectors { get; }
    public float[] UserVectors { get; }
    public int Dimensions { get; }

    /// <summary>True when recommendations run the whole funnel (the version has rankers), false for retrieval alone.</summary>
    public bool HasFunnel => _funnel is not null;

    /// <summary>Loads a version folder, or the version a models root's <c>current</c> names. A corrupt file is refused with its path.</summary>
    public static TrainedModel Load(string path)
    {
        var dir = Trainer.ResolveVersionDirectory(path);
        var itemIds = File.ReadAllLines(Path.Combine(dir, Trainer.ItemIdsFile));
        var userIds = File.ReadAllLines(Path.Combine(dir, Trainer.UserIdsFile));
        var (items, itemCount, dims) = VectorFile.Read(Path.Combine(dir, Trainer.ItemVectorsFile));
        var (users, userCount, userDims) = VectorFile.Read(Path.Combine(dir, Trainer.UserVectorsFile));
        if (itemCount != itemIds.Length) throw new InvalidDataException($"{dir}: {itemCount} item vectors but {itemIds.Length} item ids.");
        if (userCount != userIds.Length || userDims != dims) throw new InvalidDataException($"{dir}: {userCount} x {userDims} user vectors for {userIds.Length} users and {dims} dimensions.");
        var lines = File.ReadAllLines(Path.Combine(dir, Trainer.UserItemsFile));
        if (lines.Length != userIds.Length) throw new InvalidDataException($"{Path.Combine(dir, Trainer.UserItemsFile)}: {lines.Length} lines for {userIds.Length} users.");
        var known = new int[lines.Length][];
        for (var u = 0; u < lines.Length; u++)
        {
            known[u] = lines[u].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s =>
                int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < itemIds.Length
                    ? i
                    : throw new InvalidDataException($"{Path.Combine(dir, Trainer.UserItemsFile)}:{u + 1}: '{s}' is not an item index below {itemIds.Length}.")).ToArray();
        }
        var model = new TrainedModel(dir, itemIds, userIds, items, users, dims, known);
        model._funnel = LoadFunnel(dir, itemIds.Length, userIds.Length, items, users, dims);
        return model;
    }

    private static Funnel? LoadFunnel(string dir, int itemCount, int userCount, float[] items, float[] users, int dims)
    {
        var manifestPath = Path.Combine(dir, Trainer.ManifestFile);
        var rankersPath = Path.Combine(dir, Trainer.RankersFile);
        var statePath = Path.Combine(dir, Trainer.FunnelStateFile);
        if (!File.Exists(manifestPath) || !File.Exists(rankersPath) || !File.Exists(statePath)) return null;
        var manifest = JsonSerializer.Deserialize<RecSys.Ranking.ModelManifest>(File.ReadAllText(manifestPath), new JsonSerializerOptions(JsonSerializerDefaults.Web))
            ?? throw new InvalidDataException($"{manifestPath}: empty.");
        var retrieval = manifest.Retrieval ?? throw new InvalidDataException($"{manifestPath}: no retrieval section (how users are folded in).");
        if (retrieval.Dimensions != dims) throw new InvalidDataException($"{manifestPath}: {retrieval.Dimensions} dimensions, the item vectors have {dims}.");
        var schema = FeatureSchema.FromNames(manifest.Features);
        var networks = ReadRankers(rankersPath);
        if (networks.Count != 2) throw new InvalidDataException($"{rankersPath}: {networks.Count} networks, expected the pre-ranker and the ranker.");
        var state = RecSys.Training.Funnel.FunnelState.Read(statePath, itemCount, userCount);
        var foldIn = new AlsModel(new AlsOptions { Factors = dims, Alpha = retrieval.Alpha, Regularization = retrieval.Regularization }, userCount, itemCount, users, items);
        // The ranker's heads combined by the manifest's weights, as serving combines the ONNX model's outputs.
        var weights = networks[1].Heads.Select(h => manifest.Ranker.Outputs.TryGetValue(h, out var w) ? w : 0.0).ToArray();
        if (weights.All(w => w == 0)) throw new InvalidDataException($"{manifestPath}: the ranker outputs {string.Join(", ", manifest.Ranker.Outputs.Keys)} name none of the ranker's heads ({string.Join(", ", networks[1].Heads)}).");
        return new Funnel(foldIn, retrieval.Strength, retrieval.History, networks[0], networks[1], weights, schema, state, state.Catalog(manifest.Version),
            RankingData.SocialContexts(state.Social), new FunnelOptions(), new FeaturesOptions().HotItemTrendScore);
    }

    /// <summary>The networks of <c>rankers.json</c> (the trainer's arrays), pre-ranker first.</summary>
    private static List<DenseNetwork> ReadRankers(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            static float[] Floats(JsonElement e) => [.. e.EnumerateArray().Select(v => v.GetSingle())];
            return [.. doc.RootElement.EnumerateArray().Select(r => new DenseNetwork(
                [.. r.GetProperty("features").EnumerateArray().Select(f => f.GetString()!)],
                Floats(r.GetProperty("input_mean")), Floats(r.GetProperty("input_scale")),
                [.. r.GetProperty("weights").EnumerateArray().Select(Floats)], [.. r.GetProperty("biases").EnumerateArray().Select(Floats)],
                r.TryGetProperty("heads", out var heads) ? [.. heads.EnumerateArray().Select(h => h.GetString()!)] : null))];
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentException or FormatException)
        {
            throw new InvalidDataException($"{path}: not the trainer's rankers ({ex.Message}).", ex);
        }
    }

    public bool IsKnownUser(string userId) => _userIndex.ContainsKey(userId);

    /// <summary>The top <paramref name="k"/> item indices for a user, best first, without the items they already interacted with.</summary>
    public int[] Recommend(string userId, int k, float[]? scratch = null)
    {
        ArgumentNullException.ThrowIfNull(userId);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var isKnown = _userIndex.TryGetValue(userId, out var u);
        if (isKnown && _funnel is { } withFunnel) return RecommendWithFunnel(withFunnel, u, k);
        if (!isKnown || TensorPrimitives.SumOfSquares(UserVectors.AsSpan(u * Dimensions, Dimensions)) == 0)
        {
            var exclude = u < _known.Length && _userIndex.ContainsKey(userId) ? new HashSet<int>(_known[u]) : [];
            return _popular.Where(i => !exclude.Contains(i)).Take(k).ToArray();
        }
        var scores = scratch is { Length: var n } && n >= ItemIds.Count ? scratch : new float[ItemIds.Count];
        var x = UserVectors.AsSpan(u * Dimensions, Dimensions);
        for (var i = 0; i < ItemIds.Count; i++) scores[i] = TensorPrimitives.Dot(x, ItemVectors.AsSpan(i * Dimensions, Dimensions));
        foreach (var i in _known[u]) scores[i] = float.NegativeInfinity;
        var top = new TopN(Math.Min(k, ItemIds.Count));
        for (var i = 0; i < ItemIds.Count; i++)
        {
            if (!float.IsNegativeInfinity(scores[i])) top.Push(scores[i], i);
        }
        var result = new int[top.Count];
        top.Drain(result, new float[result.Length]);
        return result;
    }

    private int[] RecommendWithFunnel(Funnel f, int u, int k)
    {
        var w = t_worker is { } cached && ReferenceEquals(cached.Model, this) ? cached : t_worker = new Worker(this, f);
        var state = f.State;
        var recent = state.Recent[u];
        var history = recent.AsSpan(0, Math.Min(f.History, recent.Length));
        Span<float> strengths = history.Length <= 256 ? stackalloc float[history.Length] : new float[history.Length];
        strengths.Fill(f.Strength);
        var hasQuery = history.Length > 0 && f.FoldIn.FoldIn(history, strengths, w.Query);
        var known = _known[u];
        var interacted = state.Interacted[u];
        var excluded = w.Excluded;
        foreach (var i in known) excluded[i] = true;
        foreach (var i in interacted) excluded[i] = true;
        try
        {
            w.Candidates.Generate(w.Query, hasQuery, i => excluded[i], state.Popular);
        }
        finally
        {
            foreach (var i in known) excluded[i] = false;
            foreach (var i in interacted) excluded[i] = false;
        }
        var count = w.Candidates.Count;
        var width = f.Schema.Count;
        if (w.Rows.Length < count * width)
        {
            w.Rows = new float[count * width];
            w.PreScores = new float[count];
            w.RankerScores = new float[count];
            w.Order = new int[count];
            w.Stats = new ItemStats[count];
        }
        var items = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(w.Candidates.Items);
        for (var c = 0; c < count; c++) w.Stats[c] = state.Stats[items[c]];
        var online = new UserOnlineState(recent, new HashSet<int>(interacted), state.NowUnixSeconds);
        var context = RankingData.Context(state.Users[u], UserIds[u], u, online, f.Social(u), state.NowUnixSeconds);
        w.Assembler.Assemble(context, f.Catalog, new CandidateFeatureInputs(items, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(w.Candidates.AnnScores),
            System.Runtime.InteropServices.CollectionsMarshal.AsSpan(w.Candidates.Sources), w.Stats.AsSpan(0, count)), w.Rows);
        w.Stages.Order(w.Rows.AsSpan(0, count * width), count, w.PreScores, w.RankerScores, w.Order);
        var result = new int[Math.Min(k, count)];
        for (var j = 0; j < result.Length; j++) result[j] = items[w.Order[j]];
        return result;
    }
}
