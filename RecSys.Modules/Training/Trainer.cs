using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RecSys.Training;

/// <summary>What a training run does; every field has a default, so a run needs only its data.</summary>
public sealed record TrainingOptions
{
    public AlsOptions Als { get; init; } = new();

    /// <summary>Evaluate on a per-user temporal split before training the final model on all data.</summary>
    public bool Evaluate { get; init; } = true;

    [Range(0.01, 0.99)]
    public double Holdout { get; init; } = 0.2;

    /// <summary>At most this many users are evaluated (a seeded sample; 0: all).</summary>
    [Range(0, int.MaxValue)]
    public int EvaluationUsers { get; init; } = 3000;

    [Range(1, 10_000)]
    public int Neighbours { get; init; } = 100;

    /// <summary>Items with fewer training pairs than this get their vector from the content tower.</summary>
    [Range(0, 1_000_000)]
    public int ColdStartMinInteractions { get; init; } = 3;

    [Range(0.0, 1e6)]
    public double ColdStartLambda { get; init; } = 1.0;

    /// <summary>The models root: versions are written under it and <c>current</c> names the latest.</summary>
    public string ModelsDirectory { get; init; } = "models";

    /// <summary>The version folder name; default the UTC time of the run (<c>20261121-224500</c>).</summary>
    public string? Version { get; init; }

    public int Seed { get; init; } = 42;

    /// <summary>Train the pre-ranker and the ranker on point-in-time rows of the latest part of the log.</summary>
    public bool Rankers { get; init; } = true;

    /// <summary>Ranking rows come from events after this quantile of event time; retrieval for their features is trained on the events before it.</summary>
    [Range(0.05, 0.95)]
    public double RankingWindowStart { get; init; } = 0.8;

    public RankingDataOptions RankingData { get; init; } = new();

    public RankerTrainingOptions RankerTraining { get; init; } = new();

    /// <summary>The main ranker's like and dwell heads where the rows have those labels, and each head's weight in the served score.</summary>
    public RankerHeadsOptions RankerHeads { get; init; } = new();

    /// <summary>The funnel's stage sizes for its end-to-end row in the evaluation (the serving defaults).</summary>
    public FunnelOptions Funnel { get; init; } = new();

    /// <summary>The HNSW settings of the saved index written with the item vectors (the service's <c>Retrieval</c> options); null: no index file.</summary>
    public RecSys.Retrieval.RetrievalOptions? HnswIndex { get; init; } = new();
}

/// <summary>The outcome of a run: where it wrote and what it measured.</summary>
public sealed record TrainingRun(string Version, string Directory, IReadOnlyList<EvaluationResult> Evaluation, IReadOnlyDictionary<string, double> Seconds, int ColdItemsFilled,
    IReadOnlyList<TrainedRanker> Rankers, IReadOnlyList<GroundTruthResult> GroundTruth)
{
    /// <summary>The funnel's row with the evaluation rankers' AUC on its candidates (null without evaluation or rankers).</summary>
    public FunnelResult? Funnel { get; init; }

    /// <summary>The rankers trained on the evaluation split's training events only, which the funnel row used.</summary>
    public IReadOnlyList<TrainedRanker> EvaluationRankers { get; init; } = [];
}

/// <summary>What <see cref="Trainer.EvaluateAsync"/> measured: one row per method, the funnel's details and its rankers.</summary>
public sealed record EvaluationRun(IReadOnlyList<EvaluationResult> Results, FunnelResult? Funnel, IReadOnlyList<TrainedRanker> Rankers, AlsModel Als);

/// <summary>
/// A training run: evaluation on a temporal split (MostPop, ItemKNN, ALS and the whole funnel, see <see cref="EvaluateAsync"/>), then the final ALS on all data, the cold-start
/// tower for items with too few interactions, and the artifacts in <c>models/&lt;version&gt;/</c>: item and user vectors
/// (<see cref="VectorFile"/>) with their ids, each user's known items, <c>report.json</c> and <c>report.md</c>;
/// <c>models/current</c> then names the version. A run writes into a temporary folder and renames it, so a failed run
/// leaves the previous version in place.
/// </summary>
public static class Trainer
{
    public const string ItemVectorsFile = "item_vectors.bin";
    public const string ItemIdsFile = "item_ids.txt";
    public const string UserVectorsFile = "user_vectors.bin";
    public const string UserIdsFile = "user_ids.txt";
    public const string UserItemsFile = "user_items.txt";
    public const string ReportJsonFile = "report.json";
    public const string ReportMarkdownFile = "report.md";
    public const string CurrentFile = "current";
    public const string RankersFile = "rankers.json";
    public const string ManifestFile = "manifest.json";
    public const string PreRankerFile = "preranker.onnx";
    public const string RankerFile = "ranker.onnx";
    public const string FunnelStateFile = "funnel_state.json";
    public const string HnswIndexFile = "item_vectors.hnsw";

    private static readonly JsonSerializerOptions ManifestJson = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <param name="world">When the data is a demo world: also score the final models against its hidden preferences.</param>
    public static async Task<TrainingRun> RunAsync(InteractionDataset dataset, TrainingOptions options, IProgress<string>? progress, CancellationToken cancellationToken,
        RecSys.Demo.DemoWorld? world = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(options);
        Validator.ValidateObject(options, new ValidationContext(options), validateAllProperties: true);
        Validator.ValidateObject(options.Als, new ValidationContext(options.Als), validateAllProperties: true);
        Validator.ValidateObject(options.RankerHeads, new ValidationContext(options.RankerHeads), validateAllProperties: true);
        var total = Stopwatch.StartNew();
        var seconds = new Dictionary<string, double>();
        var version = options.Version ?? DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        var root = Path.GetFullPath(options.ModelsDirectory);
        var final = Path.Combine(root, version);
        if (Directory.Exists(final)) throw new IOException($"{final} already exists; choose another version.");
        var staging = Path.Combine(root, $".{version}.partial");
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(staging);
        // A failing branch cancels the others rather than leaving them running.
        using var branches = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            // Three independent branches run at once (each is deterministic on its own, so the results do not depend on the
            // overlap): the evaluation on its split, the final retrieval (ALS, cold start, index, ground truth) and the final
            // rankers on their point-in-time rows (which train their own retrieval on the events before the rows' window).
            // Much of the evaluation and of the row building is a sequential replay that leaves a core idle; overlapped, the
            // run is bound by its total CPU time (measured: 10-25 % less wall time on the shared 2-core VM, README). Each
            // phase's seconds are its own branch's wall time.
            Action<string> Phase(Stopwatch watch) => what =>
            {
                var elapsed = watch.Elapsed.TotalSeconds;
                lock (seconds) seconds[what] = Math.Round(elapsed, 2);
                progress?.Report($"{what}: {elapsed:0.0} s");
                watch.Restart();
            };

            var split = options.Evaluate ? Splits.PerUserTemporal(dataset, options.Holdout) : null;
            var evaluationTask = split is null ? Task.FromResult<EvaluationRun?>(null) : Task.Run(async () =>
            {
                var lap = Phase(Stopwatch.StartNew());
                var run = await EvaluateAsync(dataset, split, options, progress, branches.Token);
                lap("evaluation");
                return (EvaluationRun?)run;
            }, branches.Token);
            var rankersTask = !options.Rankers ? Task.FromResult<(RankingRows?, List<TrainedRanker>)>((null, [])) : Task.Run(() =>
            {
                var lap = Phase(Stopwatch.StartNew());
                var built = BuildRankingRows(dataset, options, progress, branches.Token);
                lap("ranking_rows");
                var trained = TrainRankers(built, options, progress);
                lap("rankers");
                return ((RankingRows?)built, trained);
            }, branches.Token);

            var mainLap = Phase(Stopwatch.StartNew());
            var matrix = Splits.Full(dataset);
            var model = ImplicitAls.Train(matrix, options.Als, (i, _) => progress?.Report($"ALS iteration {i}/{options.Als.Iterations}"), cancellationToken: branches.Token);
            mainLap("als");
            var filled = ItemContentTower.FillColdItems(dataset, matrix, model.ItemFactors, model.Factors, options.ColdStartMinInteractions, options.ColdStartLambda, out var tower);
            if (filled > 0)
            {
                // Serving folds users in against the item vectors as written, cold items filled (their Gram matrix changed):
                // re-solve every user against them, so that the written user vectors are exactly that fold-in.
                var written = new AlsModel(model.Options, model.Users, model.Items, model.UserFactors, model.ItemFactors);
                var k = model.Factors;
                Parallel.For(0, matrix.Rows, new ParallelOptions { MaxDegreeOfParallelism = options.Als.MaxThreads > 0 ? options.Als.MaxThreads : -1, CancellationToken = branches.Token },
                    u => written.FoldIn(matrix.RowIndices(u), matrix.RowValues(u), model.UserFactors.AsSpan(u * k, k)));
            }
            mainLap("cold_start");
            var indexFile = Serving.VersionIndex.Write(staging, model.ItemFactors, model.Factors, options.HnswIndex, progress);
            mainLap("hnsw_index");

            var truth = new List<GroundTruthResult>();
            if (world is not null)
            {
                var sample = Evaluation.EvaluatedUsers(new DataSplit("all", matrix, Enumerable.Range(0, matrix.Rows).Select(u => matrix.RowCount(u) > 0 ? new[] { 0 } : []).ToArray(), null),
                    Math.Min(500, options.EvaluationUsers == 0 ? 500 : options.EvaluationUsers), options.Seed);
                truth.AddRange(DemoGroundTruth.Evaluate(world, matrix, [Recommenders.MostPopular(matrix), Recommenders.ItemKnn(matrix, options.Neighbours), Recommenders.Als(model)], sample));
                foreach (var t in truth) progress?.Report($"hidden preferences, {t.Method}: overlap@{t.K} {t.OverlapAtK:0.000}, normalised utility {t.NormalizedUtility:0.000} ({t.Users:N0} users)");
                mainLap("ground_truth");
            }

            var (rows, rankers) = await rankersTask;
            var evaluation = await evaluationTask;
            var results = new List<EvaluationResult>(evaluation?.Results ?? []);
            mainLap = Phase(Stopwatch.StartNew());

            await VectorFile.WriteAsync(Path.Combine(staging, ItemVectorsFile), model.ItemFactors, model.Items, model.Factors, cancellationToken);
            await VectorFile.WriteAsync(Path.Combine(staging, UserVectorsFile), model.UserFactors, model.Users, model.Factors, cancellationToken);
            await File.WriteAllLinesAsync(Path.Combine(staging, ItemIdsFile), dataset.ItemIds, cancellationToken);
            await File.WriteAllLinesAsync(Path.Combine(staging, UserIdsFile), dataset.UserIds, cancellationToken);
            await File.WriteAllLinesAsync(Path.Combine(staging, UserItemsFile),
                Enumerable.Range(0, matrix.Rows).Select(u => string.Join(' ', matrix.RowIndices(u).ToArray())), cancellationToken);
            if (rankers.Count == 2 && rows is not null)
            {
                // The serving two-stage ranker's format: both models take full rows of the schema; standardisation is folded in.
                var schema = rows.Schema.Names.ToList();
                await File.WriteAllBytesAsync(Path.Combine(staging, PreRankerFile),
                    RecSys.Ranking.OnnxModelExport.WriteSigmoidNetwork(schema.Count, rankers[0].Network.FoldedLayers(schema), "score"), cancellationToken);
                await File.WriteAllBytesAsync(Path.Combine(staging, RankerFile),
                    RecSys.Ranking.OnnxModelExport.WriteSigmoidHeads(schema.Count, rankers[1].Network.FoldedLayers(schema), rankers[1].Network.Heads), cancellationToken);
                // Serving ranks by Σ weight × head over the ranker's outputs (one, p_click, where the data has only clicks).
                var manifest = new RecSys.Ranking.ModelManifest(version, schema, new RecSys.Ranking.PreRankerManifest(PreRankerFile, "score"),
                    new RecSys.Ranking.RankerManifest(RankerFile, rankers[1].Outputs))
                {
                    // How serving folds a user in: the ranking rows' ann_similarity was computed exactly so (RankingData).
                    Retrieval = new RecSys.Ranking.RetrievalManifest(ItemVectorsFile, ItemIdsFile, model.Factors, "als", options.Als.Alpha, options.Als.Regularization,
                        RankingData.QueryStrength, options.RankingData.QueryVectorHistory) { Index = indexFile },
                };
                await File.WriteAllTextAsync(Path.Combine(staging, ManifestFile), JsonSerializer.Serialize(manifest, ManifestJson), cancellationToken);
                // What `recommend` needs to run the same funnel offline: the log's replayed state at its end.
                await Funnel.FunnelState.Capture(dataset, options.RankingData, options.Funnel.PopularCount + options.RankingData.RecentHistoryLength + 500)
                    .WriteAsync(Path.Combine(staging, FunnelStateFile), cancellationToken);
            }
            if (rankers.Count > 0)
            {
                // The weights as plain arrays too (inspection, other exporters).
                var exported = rankers.Select(r => new
                {
                    name = r.Name,
                    features = r.Network.Features,
                    input_mean = r.Network.InputMean,
                    input_scale = r.Network.InputScale,
                    weights = r.Network.Weights,
                    biases = r.Network.Biases,
                    heads = r.Network.Heads,
                    output_weights = r.OutputWeights,
                    activation = "relu between layers, sigmoid on each output",
                });
                await File.WriteAllTextAsync(Path.Combine(staging, RankersFile), JsonSerializer.Serialize(exported, Json), cancellationToken);
            }
            mainLap("write");
            seconds["total"] = Math.Round(total.Elapsed.TotalSeconds, 2);

            var window = dataset.Window;
            var report = new Report(
                version, DateTimeOffset.UtcNow, dataset.Name, dataset.UserCount, dataset.ItemCount, dataset.Events.Length, matrix.NonZeros,
                window?.From, window?.To, options.Als, options.Holdout, split?.Description, results.Select(r => new ReportMetrics(r.Method, r.Users, r.Values, r.FitSeconds)).ToList(),
                filled, tower?.FeatureCount,
                rankers.Select(ReportRanker.Of).ToList(),
                rows is null ? null : new ReportRows(rows.Count, rows.FromImpressions, rows.Click.Average(), DateTimeOffset.FromUnixTimeSeconds(rows.Times.FirstOrDefault()), DateTimeOffset.FromUnixTimeSeconds(rows.Times.LastOrDefault())),
                truth, evaluation?.Funnel is { } fr ? new ReportFunnel(fr.Metrics.Method, fr.PreRankerAuc, fr.RankerAuc, fr.PreRankerUserAuc, fr.RankerUserAuc, fr.PreRankerKeptAuc, fr.RankerKeptAuc, fr.CandidateRecall, fr.MeanCandidates,
                    evaluation.Rankers.Select(ReportRanker.Of).ToList()) { RetrievalUserAuc = fr.RetrievalUserAuc, RetrievalKeptAuc = fr.RetrievalKeptAuc } : null,
                seconds, Environment.ProcessorCount,
                new Dictionary<string, string>
                {
                    ["item_vectors"] = ItemVectorsFile, ["item_ids"] = ItemIdsFile, ["user_vectors"] = UserVectorsFile, ["user_ids"] = UserIdsFile, ["user_items"] = UserItemsFile,
                    ["rankers"] = RankersFile, ["manifest"] = ManifestFile, ["funnel_state"] = FunnelStateFile, ["preranker"] = PreRankerFile, ["ranker"] = RankerFile,
                    ["hnsw_index"] = indexFile ?? "(none: --no-index)",
                }, rows?.Schema.Names.ToList() ?? []);
            await File.WriteAllTextAsync(Path.Combine(staging, ReportJsonFile), JsonSerializer.Serialize(report, Json), cancellationToken);
            await File.WriteAllTextAsync(Path.Combine(staging, ReportMarkdownFile), Markdown(report, results), cancellationToken);

            Directory.Move(staging, final);
            var current = Path.Combine(root, CurrentFile);
            await File.WriteAllTextAsync(current + ".tmp", version + "\n", cancellationToken);
            File.Move(current + ".tmp", current, overwrite: true);
            progress?.Report($"wrote {final}; {current} -> {version}");
            return new TrainingRun(version, final, results, seconds, filled, rankers, truth) { Funnel = evaluation?.Funnel, EvaluationRankers = evaluation?.Rankers ?? [] };
        }
        catch
        {
            // A failed run leaves no partial folder behind (the previous version stays current); once moved, nothing is deleted.
            await branches.CancelAsync();
            if (Directory.Exists(final)) throw;
            try { Directory.Delete(staging, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>
    /// The evaluation on a split: MostPop, ItemKNN and ALS trained on its training pairs, and (with
    /// <see cref="TrainingOptions.Rankers"/>) the whole funnel, whose rankers are trained on the split's training events
    /// only (<see cref="FunnelEvaluation.TrainingEvents"/>) exactly as the final ones are on all events.
    /// </summary>
    public static async Task<EvaluationRun> EvaluateAsync(InteractionDataset dataset, DataSplit split, TrainingOptions options, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(split);
        ArgumentNullException.ThrowIfNull(options);
        var results = new List<EvaluationResult>();
        var users = Evaluation.EvaluatedUsers(split, options.EvaluationUsers, options.Seed);
        progress?.Report($"evaluation split: {split.Description}; {split.Train.NonZeros:N0} training pairs; {users.Length:N0} users evaluated");
        // The funnel's rankers (their rows train their own retrieval) do not depend on the baselines or the ALS row:
        // they are trained at the same time (deterministic either way).
        var rankersTask = !options.Rankers ? Task.FromResult((new List<TrainedRanker>(), 0.0)) : Task.Run(() =>
        {
            var watch = Stopwatch.StartNew();
            var training = FunnelEvaluation.TrainingEvents(dataset, split);
            var rows = BuildRankingRows(training, options, progress, cancellationToken, "evaluation ");
            progress?.Report($"evaluation ranking rows: {watch.Elapsed.TotalSeconds:0.0} s");
            var rankersFrom = watch.Elapsed.TotalSeconds;
            var trained = TrainRankers(rows, options, progress, "evaluation ");
            progress?.Report($"evaluation rankers: {watch.Elapsed.TotalSeconds - rankersFrom:0.0} s");
            return (trained, watch.Elapsed.TotalSeconds);
        }, cancellationToken);
        var fit = Stopwatch.StartNew();
        var pop = Recommenders.MostPopular(split.Train);
        results.Add(Evaluation.Evaluate(pop, split, users, fit.Elapsed.TotalSeconds));
        fit.Restart();
        var knn = Recommenders.ItemKnn(split.Train, options.Neighbours);
        results.Add(Evaluation.Evaluate(knn, split, users, fit.Elapsed.TotalSeconds));
        fit.Restart();
        var als = ImplicitAls.Train(split.Train, options.Als, (i, _) => progress?.Report($"evaluation ALS iteration {i}/{options.Als.Iterations}"), cancellationToken: cancellationToken);
        ItemContentTower.FillColdItems(dataset, split.Train, als.ItemFactors, als.Factors, options.ColdStartMinInteractions, options.ColdStartLambda, out _);
        var alsSeconds = fit.Elapsed.TotalSeconds;
        results.Add(Evaluation.Evaluate(Recommenders.Als(als), split, users, alsSeconds, [10, 20, 100, 500]));
        progress?.Report($"evaluation baselines and ALS: {results.Sum(r => r.FitSeconds + r.EvaluateSeconds):0.0} s");
        FunnelResult? funnel = null;
        var (rankers, rankersSeconds) = await rankersTask;
        if (rankers.Count == 2)
        {
            var f = options.Funnel;
            // Fit seconds: retrieval plus the rankers' rows and training (work, not wall time: they overlap).
            funnel = FunnelEvaluation.Evaluate($"Funnel (ALS {f.AnnCount} + popular {f.PopularCount} -> pre-ranker {f.PreRankKeep} -> ranker)", dataset, split, users, als,
                rankers[0].Network, rankers[1].Network, f, options.RankingData with { Seed = options.Seed }, alsSeconds + rankersSeconds, cancellationToken, rankers[1].OutputWeights);
            results.Add(funnel.Metrics);
            progress?.Report($"evaluation funnel: {funnel.Metrics.EvaluateSeconds:0.0} s");
            progress?.Report($"funnel: candidate recall {funnel.CandidateRecall:0.000} ({funnel.MeanCandidates:0} candidates per user); AUC on its candidates per user (pooled): pre-ranker {funnel.PreRankerUserAuc:0.000} ({funnel.PreRankerAuc:0.000}), ranker {funnel.RankerUserAuc:0.000} ({funnel.RankerAuc:0.000}); on the kept {f.PreRankKeep}: pre-ranker {funnel.PreRankerKeptAuc:0.000}, ranker {funnel.RankerKeptAuc:0.000}; plain retrieval order (ann_similarity) per user {funnel.RetrievalUserAuc:0.000}, on the kept {funnel.RetrievalKeptAuc:0.000}");
        }
        return new EvaluationRun(results, funnel, rankers, als);
    }

    /// <summary>Point-in-time ranking rows of the latest part of the log; their retrieval is trained only on the events before it.</summary>
    private static RankingRows BuildRankingRows(InteractionDataset dataset, TrainingOptions options, IProgress<string>? progress, CancellationToken cancellationToken, string label = "")
    {
        // Retrieval for the rows' ann feature is trained only on events before the rows' window: no future in it.
        var from = Splits.QuantileTime(dataset, options.RankingWindowStart);
        var before = new InteractionDataset(dataset.Name, dataset.UserIds, dataset.ItemIds, dataset.Events.Where(e => e.UnixSeconds < from).ToArray(), dataset.Items, dataset.Users) { Social = dataset.Social };
        var retrieval = ImplicitAls.Train(Splits.Full(before), options.Als, cancellationToken: cancellationToken);
        var f = options.Funnel;
        var rows = RankingData.Build(dataset, retrieval, options.RankingData with { FromUnixSeconds = from, Seed = options.Seed, CandidatePool = f.AnnCount, PopularCount = f.PopularCount });
        progress?.Report($"{label}ranking rows: {rows.Count:N0} ({(rows.FromImpressions ? "logged impressions" : "positives + negatives from the serving candidate set")}), {(rows.Count == 0 ? 0 : rows.Click.Average()):P1} positive");
        return rows;
    }

    /// <summary>The pre-ranker and the ranker on the rows (none when the rows are too few or one-sided).</summary>
    private static List<TrainedRanker> TrainRankers(RankingRows rows, TrainingOptions options, IProgress<string>? progress, string label = "")
    {
        var rankers = new List<TrainedRanker>();
        if (rows.Count < 100 || !rows.Click.Any(c => c > 0) || !rows.Click.Any(c => c == 0)) return rankers;
        rankers.Add(RankerTraining.TrainPreRanker(rows, options.RankerTraining with { Seed = options.Seed }));
        rankers.Add(RankerTraining.TrainRanker(rows, null, options.RankerTraining with { Seed = options.Seed }, options.RankerHeads));
        foreach (var r in rankers)
        {
            var heads = r.Network.Heads.Count > 1 ? $"; heads (validation AUC, served weight): {string.Join(", ", r.Outputs.Select(h => $"{h.Key} {r.HeadAuc[h.Key]:0.000} x{h.Value:0.##}"))}" : "";
            progress?.Report($"{label}{r.Name}: validation AUC {r.ValidationAuc:0.000}, log loss {r.ValidationLogLoss:0.0000}, best epoch {r.BestEpoch}/{r.Epochs}, {r.Network.Features.Count} features{heads}");
        }
        return rankers;
    }

    /// <summary>The version folder a path names: a version folder itself, or a models root whose <c>current</c> names one.</summary>
    public static string ResolveVersionDirectory(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (File.Exists(Path.Combine(path, ItemVectorsFile))) return Path.GetFullPath(path);
        var current = Path.Combine(path, CurrentFile);
        if (File.Exists(current))
        {
            var version = File.ReadAllText(current).Trim();
            var folder = Path.Combine(path, version);
            if (File.Exists(Path.Combine(folder, ItemVectorsFile))) return Path.GetFullPath(folder);
            throw new DirectoryNotFoundException($"{current} names version '{version}', but {folder} holds no {ItemVectorsFile}.");
        }
        throw new DirectoryNotFoundException($"{path}: neither a model version folder ({ItemVectorsFile}) nor a models root ({CurrentFile}). Run `train` first.");
    }

    private sealed record ReportMetrics(string Method, int Users, IReadOnlyDictionary<string, double> Metrics, double FitSeconds);

    private sealed record Report(
        string Version, DateTimeOffset CreatedAt, string Dataset, int Users, int Items, int Events, int TrainingPairs,
        DateTimeOffset? DataFrom, DateTimeOffset? DataTo, AlsOptions Als, double Holdout, string? Split, IReadOnlyList<ReportMetrics> Evaluation,
        int ColdItemsFilled, int? ContentFeatures, IReadOnlyList<ReportRanker> Rankers, ReportRows? RankingRows, IReadOnlyList<GroundTruthResult> HiddenPreferences, ReportFunnel? Funnel, IReadOnlyDictionary<string, double> Seconds, int Processors,
        IReadOnlyDictionary<string, string> Files, IReadOnlyList<string> FeatureSchema);

    private sealed record ReportRanker(string Name, int[] Layers, double ValidationAuc, double ValidationLogLoss, int BestEpoch, int Epochs, int TrainRows, int ValidationRows,
        IReadOnlyDictionary<string, double> HeadAuc, IReadOnlyDictionary<string, double> OutputWeights)
    {
        public static ReportRanker Of(TrainedRanker r) =>
            new(r.Name, r.Network.Sizes, r.ValidationAuc, r.ValidationLogLoss, r.BestEpoch, r.Epochs, r.TrainRows, r.ValidationRows, r.HeadAuc, r.Outputs);

        /// <summary>The heads with their AUC and served weight, for the Markdown tables.</summary>
        public string Heads(CultureInfo inv) => string.Join(", ", OutputWeights.Select(h => string.Create(inv, $"{h.Key} {(HeadAuc.TryGetValue(h.Key, out var a) ? a : double.NaN):0.000} (x{h.Value:0.##})")));
    }

    private sealed record ReportFunnel(string Method, double PreRankerAuc, double RankerAuc, double PreRankerUserAuc, double RankerUserAuc, double PreRankerKeptAuc, double RankerKeptAuc, double CandidateRecall, double MeanCandidates, IReadOnlyList<ReportRanker> Rankers)
    {
        /// <summary>Plain retrieval's order (ann_similarity), per user, on all candidates and on the kept ones.</summary>
        public double RetrievalUserAuc { get; init; } = double.NaN;
        public double RetrievalKeptAuc { get; init; } = double.NaN;
    }

    private sealed record ReportRows(int Count, bool FromImpressions, double PositiveRate, DateTimeOffset From, DateTimeOffset To);

    private static string Markdown(Report r, IReadOnlyList<EvaluationResult> results)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(inv, $"# Model {r.Version}").AppendLine();
        sb.AppendLine(inv, $"- data: {r.Dataset}: {r.Users:N0} users, {r.Items:N0} items, {r.Events:N0} events, {r.TrainingPairs:N0} positive (user, item) pairs");
        sb.AppendLine(inv, $"- window: {r.DataFrom:u} to {r.DataTo:u}");
        sb.AppendLine(inv, $"- ALS: {r.Als.Factors} factors, alpha {r.Als.Alpha}, regularisation {r.Als.Regularization}, {r.Als.Iterations} iterations, seed {r.Als.Seed}");
        sb.AppendLine(inv, $"- cold-start tower: {(r.ContentFeatures is { } f ? $"{f} content features, {r.ColdItemsFilled:N0} item vectors filled" : "no item content")}");
        sb.AppendLine(inv, $"- times (s, {r.Processors} processors): {string.Join(", ", r.Seconds.Select(kv => $"{kv.Key} {kv.Value.ToString("0.0", inv)}"))}");
        if (r.RankingRows is { } rows)
        {
            sb.AppendLine(inv, $"- ranking rows: {rows.Count:N0} {(rows.FromImpressions ? "logged impressions" : "positives with negatives from the serving candidate set")} from {rows.From:u} to {rows.To:u}, {rows.PositiveRate:P1} positive");
        }
        if (r.HiddenPreferences.Count > 0)
        {
            sb.AppendLine().AppendLine(inv, $"## Against the demo world's hidden preferences ({r.HiddenPreferences[0].Users:N0} users, final models, known items excluded)").AppendLine();
            sb.AppendLine("| method | overlap@20 with the true top 20 | normalised utility (0 random, 1 ideal) |").AppendLine("|---|---|---|");
            foreach (var t in r.HiddenPreferences) sb.AppendLine(inv, $"| {t.Method} | {t.OverlapAtK:0.000} | {t.NormalizedUtility:0.000} |");
        }
        if (r.Rankers.Count > 0)
        {
            sb.AppendLine().AppendLine("## Rankers (validation: the latest 20% of the ranking rows)").AppendLine();
            sb.AppendLine("| model | layers | AUC | log loss | best epoch | heads: AUC (served weight) |").AppendLine("|---|---|---|---|---|---|");
            foreach (var k in r.Rankers) sb.AppendLine(inv, $"| {k.Name} | {string.Join('-', k.Layers)} | {k.ValidationAuc:0.000} | {k.ValidationLogLoss:0.0000} | {k.BestEpoch}/{k.Epochs} | {k.Heads(inv)} |");
        }
        if (results.Count > 0)
        {
            sb.AppendLine().AppendLine(inv, $"## Evaluation ({r.Split}, {results[0].Users:N0} users)").AppendLine();
            sb.Append(Evaluation.Table(results));
        }
        if (r.Funnel is { } fun)
        {
            sb.AppendLine().AppendLine("## The funnel on the evaluation split").AppendLine();
            sb.AppendLine(inv, $"Rankers trained on the split's training events only; candidates as serving generates them ({fun.MeanCandidates:0} per user, recall {fun.CandidateRecall:0.000}).");
            sb.AppendLine(inv, $"AUC on the candidates (held-out items positive), per user averaged: pre-ranker {fun.PreRankerUserAuc:0.000}, ranker {fun.RankerUserAuc:0.000}; pooled over all users: pre-ranker {fun.PreRankerAuc:0.000}, ranker {fun.RankerAuc:0.000}; per user on the candidates the pre-ranker kept (where the ranker's order is served): pre-ranker {fun.PreRankerKeptAuc:0.000}, ranker {fun.RankerKeptAuc:0.000}; plain retrieval's order (ann_similarity) per user: {fun.RetrievalUserAuc:0.000}, on the kept: {fun.RetrievalKeptAuc:0.000}.").AppendLine();
            sb.AppendLine("| model | layers | validation AUC | log loss | best epoch | heads: AUC (served weight) |").AppendLine("|---|---|---|---|---|---|");
            foreach (var k in fun.Rankers) sb.AppendLine(inv, $"| {k.Name} | {string.Join('-', k.Layers)} | {k.ValidationAuc:0.000} | {k.ValidationLogLoss:0.0000} | {k.BestEpoch}/{k.Epochs} | {k.Heads(inv)} |");
        }
        return sb.ToString();
    }
}
