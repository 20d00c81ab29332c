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

        public void AddTo(Command command)
        {
            foreach (var o in new Option[] { Interactions, Items, Users, MovieLens, DemoItems, DemoUsers, DemoSeed }) command.Options.Add(o);
        }

        public InteractionDataset Load(ParseResult result)
        {
            var watch = Stopwatch.StartNew();
            InteractionDataset dataset;
            if (result.GetValue(MovieLens) is { } dir)
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
                dataset = DatasetReaders.FromDemoWorld(DemoWorldGenerator.Generate(options));
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
        var command = new Command("evaluate", "Train ALS and the baselines (MostPop, ItemKNN) on a temporal split and print their metrics.");
        var input = new InputOptions();
        var model = new ModelOptions();
        input.AddTo(command);
        model.AddTo(command);
        var holdout = new Option<double>("--holdout") { Description = "Per-user split: fraction of each user's latest items held out.", DefaultValueFactory = _ => 0.2 };
        var globalCut = new Option<double?>("--global-cut") { Description = "Instead of the per-user split: hold out everything after this quantile of event time (e.g. 0.9)." };
        var neighbours = new Option<int>("--neighbours") { Description = "ItemKNN neighbours per item.", DefaultValueFactory = _ => 100 };
        var evalUsers = new Option<int>("--eval-users") { Description = "Evaluate at most this many users (seeded sample; 0: all).", DefaultValueFactory = _ => 3000 };
        var output = new Option<string?>("--out") { Description = "Also write the table (Markdown) to this file." };
        foreach (var o in new Option[] { holdout, globalCut, neighbours, evalUsers, output }) command.Options.Add(o);
        command.SetAction(async (result, cancellationToken) =>
        {
            var dataset = input.Load(result);
            var split = result.GetValue(globalCut) is { } q
                ? Splits.GlobalTimeCut(dataset, Splits.QuantileTime(dataset, q))
                : Splits.PerUserTemporal(dataset, result.GetValue(holdout));
            var users = Evaluation.EvaluatedUsers(split, result.GetValue(evalUsers), result.GetValue(model.Seed));
            Console.WriteLine($"split: {split.Description}; {split.Train.NonZeros:N0} training pairs; evaluating {users.Length:N0} users");
            var results = new List<EvaluationResult>();
            var watch = Stopwatch.StartNew();
            var pop = Recommenders.MostPopular(split.Train);
            results.Add(Evaluation.Evaluate(pop, split, users, watch.Elapsed.TotalSeconds));
            watch.Restart();
            var knn = Recommenders.ItemKnn(split.Train, result.GetValue(neighbours));
            results.Add(Evaluation.Evaluate(knn, split, users, watch.Elapsed.TotalSeconds));
            watch.Restart();
            var als = ImplicitAls.Train(split.Train, model.Als(result), (i, _) => Console.Write($"\rALS iteration {i}"), cancellationToken: cancellationToken);
            Console.WriteLine();
            results.Add(Evaluation.Evaluate(Recommenders.Als(als), split, users, watch.Elapsed.TotalSeconds, [10, 20, 100, 500]));
            var table = Evaluation.Table(results);
            Console.WriteLine(table);
            if (result.GetValue(output) is { } path) await File.WriteAllTextAsync(path, $"{dataset.Name}\n\n{split.Description}\n\n{table}", cancellationToken);
            return 0;
        });
        return command;
    }
}
