using System.CommandLine;
using System.Diagnostics;
using RecSys.Demo;
using RecSys.Training;

namespace RecSys.Api.Cli;

/// <summary>The verbs of the Training module: <c>train</c>, <c>evaluate</c>, <c>recommend</c>.</summary>
internal static class TrainingVerbs
{
    /// <summary>The input options every training verb shares: a CSV log, a MovieLens directory, or (neither) the demo world.</summary>
    private sealed class InputOptions
    {
        public Option<string?> Interactions { get; } = new("--interactions") { Description = "CSV of interactions: user_id,item_id,timestamp[,event_type][,value]." };
        public Option<string?> Items { get; } = new("--items") { Description = "Optional CSV of item metadata (item_id[,title][,category][,author_id][,language][,region][,created_at][,tags])." };
        public Option<string?> Users { get; } = new("--users") { Description = "Optional CSV of user metadata (user_id[,age][,region][,language])." };
        public Option<string?> MovieLens { get; } = new("--movielens") { Description = "A MovieLens directory as published (ml-100k, ml-1m, ml-latest)." };
        public Option<int> DemoItems { get; } = new("--demo-items") { Description = "Demo world size when no input is given: items.", DefaultValueFactory = _ => new DemoOptions().Items };
        public Option<int> DemoUsers { get; } = new("--demo-users") { Description = "Demo world size when no input is given: users.", DefaultValueFactory = _ => new DemoOptions().Users };
        public Option<int> DemoSeed { get; } = new("--demo-seed") { Description = "Demo world seed.", DefaultValueFactory = _ => new DemoOptions().Seed };
        public Option<string?> Postgres { get; } = new("--postgres")
        {
            Description = "Read the PostgreSQL event_log and catalog tables; the value is an Npgsql connection string (default: ConnectionStrings:Postgres from appsettings.json or the environment).",
            Arity = ArgumentArity.ZeroOrOne,
        };
        public Option<DateTimeOffset?> Until { get; } = new("--until") { Description = "With --postgres: a point-in-time snapshot, events before this ISO-8601 time (and items created before it)." };

        public void AddTo(Command command)
        {
            foreach (var o in new Option[] { Interactions, Items, Users, MovieLens, DemoItems, DemoUsers, DemoSeed, Postgres, Until }) command.Options.Add(o);
        }

        /// <summary>The demo world the last <see cref="LoadAsync"/> generated (null when the input was a file).</summary>
        public DemoWorld? World { get; private set; }

        /// <summary>The PostgreSQL connection string when <c>--postgres</c> was given (its value, else the configured one).</summary>
        public string? PostgresConnection { get; private set; }

        public async Task<InteractionDataset> LoadAsync(ParseResult result, CancellationToken cancellationToken)
        {
            var watch = Stopwatch.StartNew();
            InteractionDataset dataset;
            if (result.GetValue(Until) is not null && result.GetResult(Postgres) is null)
            {
                throw new ArgumentException("--until applies to --postgres only.");
            }
            if (result.GetResult(Postgres) is not null)
            {
                PostgresConnection = result.GetValue(Postgres) is { Length: > 0 } given ? given : StoreVerbs.RequirePostgres(StoreVerbs.Configuration(null, null));
                dataset = await DatasetReaders.ReadPostgresAsync(PostgresConnection, result.GetValue(Until), new Progress(Console.WriteLine), cancellationToken);
            }
            else if (result.GetValue(MovieLens) is { } dir)
            {
                dataset = DatasetReaders.ReadMovieLens(dir);
            }
            else if (result.GetValue(Interactions) is { } path)
            {
                dataset = DatasetReaders.ReadCsv(path, result.GetValue(Items), result.GetValue(Users));
            }
            else
            {
                var options = new DemoOptions { Items = result.GetValue(DemoItems), Users = result.GetValue(DemoUsers), Seed = result.GetValue(DemoSeed) };
                Console.WriteLine($"no input given: generating the demo world ({options.Items:N0} items, {options.Users:N0} users, seed {options.Seed})");
                World = DemoWorldGenerator.Generate(options);
                dataset = DatasetReaders.FromDemoWorld(World);
            }
            Console.WriteLine($"read {dataset.Name}: {dataset.UserCount:N0} users, {dataset.ItemCount:N0} items, {dataset.Events.Length:N0} events in {watch.Elapsed.TotalSeconds:0.0} s");
            return dataset;
        }
    }

    private sealed class ModelOptions
    {
        public Option<int> Factors { get; } = new("--factors") { Description = "ALS factors.", DefaultValueFactory = _ => new AlsOptions().Factors };
        public Option<int> Iterations { get; } = new("--iterations") { Description = "ALS iterations.", DefaultValueFactory = _ => new AlsOptions().Iterations };
        public Option<double> Alpha { get; } = new("--alpha") { Description = "ALS confidence scale: c = 1 + alpha * r.", DefaultValueFactory = _ => new AlsOptions().Alpha };
        public Option<double> Regularization { get; } = new("--regularization") { Description = "ALS L2 regularisation.", DefaultValueFactory = _ => new AlsOptions().Regularization };
        public Option<int> Seed { get; } = new("--seed") { Description = "Seed of the trainers.", DefaultValueFactory = _ => 42 };

        public void AddTo(Command command)
        {
            foreach (var o in new Option[] { Factors, Iterations, Alpha, Regularization, Seed }) command.Options.Add(o);
        }

        public AlsOptions Als(ParseResult r) => new()
        {
            Factors = r.GetValue(Factors),
            Iterations = r.GetValue(Iterations),
            Alpha = r.GetValue(Alpha),
            Regularization = r.GetValue(Regularization),
            Seed = r.GetValue(Seed),
        };
    }

    public static Command Evaluate()
    {
        var command = new Command("evaluate", "Train ALS, the baselines (MostPop, ItemKNN) and the whole funnel (with its rankers) on a temporal split and print their metrics.");
        var input = new InputOptions();
        var model = new ModelOptions();
        input.AddTo(command);
        model.AddTo(command);
        var holdout = new Option<double>("--holdout") { Description = "Per-user split: fraction of each user's latest items held out.", DefaultValueFactory = _ => 0.2 };
        var globalCut = new Option<double?>("--global-cut") { Description = "Instead of the per-user split: hold out everything after this quantile of event time (e.g. 0.9)." };
        var neighbours = new Option<int>("--neighbours") { Description = "ItemKNN neighbours per item.", DefaultValueFactory = _ => 100 };
        var evalUsers = new Option<int>("--eval-users") { Description = "Evaluate at most this many users (seeded sample; 0: all).", DefaultValueFactory = _ => 3000 };
        var output = new Option<string?>("--out") { Description = "Also write the table (Markdown) to this file." };
        var noFunnel = new Option<bool>("--no-funnel") { Description = "Skip the funnel row (rankers trained on the split's training events, then ALS 500 + popular -> pre-ranker -> ranker)." };
        foreach (var o in new Option[] { holdout, globalCut, neighbours, evalUsers, output, noFunnel }) command.Options.Add(o);
        command.SetAction(async (result, cancellationToken) =>
        {
            var dataset = await input.LoadAsync(result, cancellationToken);
            var split = result.GetValue(globalCut) is { } q
                ? Splits.GlobalTimeCut(dataset, Splits.QuantileTime(dataset, q))
                : Splits.PerUserTemporal(dataset, result.GetValue(holdout));
            var options = new TrainingOptions { Als = model.Als(result), Seed = result.GetValue(model.Seed), EvaluationUsers = result.GetValue(evalUsers), Neighbours = result.GetValue(neighbours), Rankers = !result.GetValue(noFunnel) };
            var run = await Trainer.EvaluateAsync(dataset, split, options, new Progress<string>(line => { if (!line.Contains("ALS iteration", StringComparison.Ordinal)) Console.WriteLine(line); }), cancellationToken);
            var results = run.Results;
            var table = Evaluation.Table(results);
            Console.WriteLine(table);
            if (result.GetValue(output) is { } path) await File.WriteAllTextAsync(path, $"{dataset.Name}\n\n{split.Description}\n\n{table}", cancellationToken);
            return 0;
        });
        return command;
    }

    public static Command Train()
    {
        var command = new Command("train", "Train the retrieval model (implicit ALS + cold-start item tower) and the rankers, evaluate them (ALS and the whole funnel) against MostPop and ItemKNN, and write models/<version>/ and models/current. With no input it trains on the demo world.");
        var input = new InputOptions();
        var model = new ModelOptions();
        input.AddTo(command);
        model.AddTo(command);
        var output = new Option<string>("--out") { Description = "The models root.", DefaultValueFactory = _ => "models" };
        var version = new Option<string?>("--version") { Description = "Version folder name (default: the UTC time)." };
        var holdout = new Option<double>("--holdout") { Description = "Evaluation: fraction of each user's latest items held out.", DefaultValueFactory = _ => 0.2 };
        var evalUsers = new Option<int>("--eval-users") { Description = "Evaluate at most this many users (0: all).", DefaultValueFactory = _ => 3000 };
        var noEvaluation = new Option<bool>("--no-evaluation") { Description = "Skip the evaluation split (train on all data only)." };
        var register = new Option<bool>("--register") { Description = "Record the written version in the model registry (PostgreSQL model_registry at --postgres, else ConnectionStrings:Postgres) as a candidate, with its report metrics." };
        var activate = new Option<bool>("--activate") { Description = "With --register: also make it the active version of its name (the previous active one is retired)." };
        var registerName = new Option<string>("--register-name") { Description = "The model name in the registry.", DefaultValueFactory = _ => "recsys" };
        var noIndex = new Option<bool>("--no-index") { Description = "Do not write the HNSW index of the item vectors (the service then builds it at load)." };
        var heads = new RankerHeadsOptions();
        var singleHead = new Option<bool>("--single-head") { Description = "Train the main ranker with the click head only, even where the data has likes and dwell." };
        var likeWeight = new Option<double>("--like-weight") { Description = "Weight of the ranker's p_like head in the served score (manifest).", DefaultValueFactory = _ => heads.LikeWeight };
        var dwellWeight = new Option<double>("--dwell-weight") { Description = "Weight of the ranker's p_dwell head in the served score (manifest).", DefaultValueFactory = _ => heads.DwellWeight };
        var dwellThreshold = new Option<double>("--dwell-threshold") { Description = "Seconds of dwell that make a positive of the p_dwell head.", DefaultValueFactory = _ => heads.DwellThresholdSeconds };
        foreach (var o in new Option[] { output, version, holdout, evalUsers, noEvaluation, register, activate, registerName, noIndex, singleHead, likeWeight, dwellWeight, dwellThreshold }) command.Options.Add(o);
        command.SetAction(async (result, cancellationToken) =>
        {
            var watch = Stopwatch.StartNew();
            var dataset = await input.LoadAsync(result, cancellationToken);
            var options = new TrainingOptions
            {
                Als = model.Als(result),
                Seed = result.GetValue(model.Seed),
                ModelsDirectory = result.GetValue(output)!,
                Version = result.GetValue(version),
                Holdout = result.GetValue(holdout),
                EvaluationUsers = result.GetValue(evalUsers),
                Evaluate = !result.GetValue(noEvaluation),
                RankerHeads = heads with
                {
                    Enabled = !result.GetValue(singleHead),
                    LikeWeight = result.GetValue(likeWeight),
                    DwellWeight = result.GetValue(dwellWeight),
                    DwellThresholdSeconds = result.GetValue(dwellThreshold),
                },
                // The index is built with the HNSW settings the service reads (appsettings.json / environment: Retrieval:Hnsw*).
                HnswIndex = result.GetValue(noIndex) ? null : RetrievalSettings(),
            };
            if (result.GetValue(activate) && !result.GetValue(register))
            {
                await Console.Error.WriteLineAsync("--activate needs --register.");
                return 2;
            }
            var run = await Trainer.RunAsync(dataset, options, new Progress<string>(Console.WriteLine), cancellationToken, input.World);
            if (run.Evaluation.Count > 0) Console.WriteLine(Evaluation.Table(run.Evaluation));
            Console.WriteLine($"trained {run.Version} in {watch.Elapsed.TotalSeconds:0.0} s (data included): {run.Directory}");
            if (result.GetValue(register))
            {
                var connection = input.PostgresConnection ?? StoreVerbs.RequirePostgres(StoreVerbs.Configuration(null, null));
                try
                {
                    var registry = RecSys.Catalog.PostgresCatalog.ModelRegistry(connection);
                    var name = result.GetValue(registerName)!;
                    var entry = await registry.RegisterAsync(name, run.Version, run.Directory, RunMetrics.Of(run), cancellationToken);
                    if (result.GetValue(activate)) entry = await registry.ActivateAsync(name, run.Version, cancellationToken);
                    Console.WriteLine($"registered {entry.Name} {entry.Version} ({entry.Status}, {entry.Metrics.Count} metrics) in model_registry");
                }
                catch (Npgsql.NpgsqlException ex)
                {
                    await Console.Error.WriteLineAsync($"{run.Directory} was written, but registering it in PostgreSQL failed: {ex.Message}");
                    return 1;
                }
            }
            return 0;
        });
        return command;
    }

    public static Command Recommend()
    {
        var command = new Command("recommend", "Write the top K items per user from a trained model as CSV: user_id,rank,item_id (known items excluded); the whole funnel when the version has rankers.");
        var models = new Option<string>("--models") { Description = "A model version folder, or a models root with a 'current' file.", DefaultValueFactory = _ => "models" };
        var users = new Option<string>("--users") { Description = "A file of user ids (one per line; a 'user_id' header is skipped), or 'all'.", DefaultValueFactory = _ => "all" };
        var k = new Option<int>("--k") { Description = "Items per user.", DefaultValueFactory = _ => 20 };
        var output = new Option<string>("--out") { Description = "Output CSV.", DefaultValueFactory = _ => "recs.csv" };
        foreach (var o in new Option[] { models, users, k, output }) command.Options.Add(o);
        command.SetAction(async (result, cancellationToken) =>
        {
            var count = result.GetValue(k);
            if (count < 1)
            {
                await Console.Error.WriteLineAsync("--k must be at least 1.");
                return 2;
            }
            var watch = Stopwatch.StartNew();
            var model = TrainedModel.Load(result.GetValue(models)!);
            var which = result.GetValue(users)!;
            var ids = which == "all"
                ? model.UserIds.ToArray()
                : (await File.ReadAllLinesAsync(which, cancellationToken)).Select(l => l.Trim()).Where(l => l.Length > 0 && l != "user_id").ToArray();
            var lists = new int[ids.Length][];
            Parallel.For(0, ids.Length, new ParallelOptions { CancellationToken = cancellationToken }, () => new float[model.ItemIds.Count],
                (n, _, scratch) => { lists[n] = model.Recommend(ids[n], count, scratch); return scratch; }, _ => { });
            var path = result.GetValue(output)!;
            await using (var writer = new StreamWriter(path + ".tmp"))
            {
                await writer.WriteLineAsync("user_id,rank,item_id");
                for (var n = 0; n < ids.Length; n++)
                {
                    for (var r = 0; r < lists[n].Length; r++) await writer.WriteLineAsync($"{Csv(ids[n])},{r + 1},{Csv(model.ItemIds[lists[n][r]])}");
                }
            }
            File.Move(path + ".tmp", path, overwrite: true);
            var unknown = ids.Count(id => !model.IsKnownUser(id));
            var how = model.HasFunnel ? "the funnel: ALS + popular candidates -> pre-ranker -> ranker" : "retrieval alone: the version has no rankers";
            Console.WriteLine($"wrote {ids.Length:N0} users x {count} to {Path.GetFullPath(path)} from {model.Directory} ({how}) in {watch.Elapsed.TotalSeconds:0.0} s ({unknown:N0} unknown users got popular items)");
            return 0;
        });
        return command;
    }

    private static RecSys.Retrieval.RetrievalOptions RetrievalSettings()
    {
        var options = new RecSys.Retrieval.RetrievalOptions();
        StoreVerbs.Configuration(null, null).GetSection("Retrieval").Bind(options);
        return options;
    }

    /// <summary>Reports on the caller's thread, so progress lines come out in order.</summary>
    private sealed class Progress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }

    private static string Csv(string value) => value.Contains(',', StringComparison.Ordinal) || value.Contains('"', StringComparison.Ordinal)
        ? $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\""
        : value;
}
