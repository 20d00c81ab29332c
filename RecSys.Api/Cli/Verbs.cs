using System.CommandLine;
using System.Diagnostics;
using RecSys.Api.Hosting;
using RecSys.Demo;
using RecSys.Ranking;

namespace RecSys.Api.Cli;

/// <summary>The verbs of the RecSys executable. <c>serve</c> is the default: arguments it does not know go to the host.</summary>
public static class Verbs
{
    public static async Task<int> RunAsync(string[] args)
    {
        // No verb (or only host options such as --urls): serve. This is also the path the test host takes.
        if (args.Length == 0 || args[0].StartsWith('-') && args[0] is not ("-h" or "--help" or "-?" or "--version"))
        {
            return await ServeAsync(args);
        }
        return await Build().Parse(args).InvokeAsync();
    }

    internal static RootCommand Build()
    {
        var root = new RootCommand("RecSys: a real-time recommendation service and its tools.");

        var serve = new Command("serve", "Run the HTTP service (the default). Other options, such as --urls http://0.0.0.0:5080 or --Demo:Items=1000, go to the host.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        serve.SetAction((result, _) => ServeAsync([.. result.UnmatchedTokens]));
        root.Subcommands.Add(serve);

        var demo = new Command("demo", "The generated demo world.");
        var generate = new Command("generate", "Generate the demo world and write it as CSV files (items, users, social, interactions).");
        var output = new Option<string>("--out") { Description = "Directory to write into.", DefaultValueFactory = _ => Path.Combine("data", "demo") };
        var seed = new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => new DemoOptions().Seed };
        var items = new Option<int>("--items") { Description = "Number of items.", DefaultValueFactory = _ => new DemoOptions().Items };
        var users = new Option<int>("--users") { Description = "Number of users.", DefaultValueFactory = _ => new DemoOptions().Users };
        var sessions = new Option<double>("--sessions") { Description = "Average feed sessions per user in the log.", DefaultValueFactory = _ => new DemoOptions().SessionsPerUser };
        generate.Options.Add(output);
        generate.Options.Add(seed);
        generate.Options.Add(items);
        generate.Options.Add(users);
        generate.Options.Add(sessions);
        generate.SetAction(async (result, cancellationToken) =>
        {
            var options = new DemoOptions
            {
                Seed = result.GetValue(seed),
                Items = result.GetValue(items),
                Users = result.GetValue(users),
                SessionsPerUser = result.GetValue(sessions),
            };
            if (options.Items < 10 || options.Users < 10)
            {
                await Console.Error.WriteLineAsync("--items and --users must be at least 10.");
                return 2;
            }
            var directory = result.GetValue(output)!;
            var watch = Stopwatch.StartNew();
            var world = DemoWorldGenerator.Generate(options, new Progress<string>(s => Console.WriteLine($"generated {s}")));
            await DemoWorldFiles.WriteAsync(world, directory, cancellationToken);
            Console.WriteLine($"wrote {world.Version} to {Path.GetFullPath(directory)} in {watch.Elapsed.TotalSeconds:0.0} s");
            return 0;
        });
        demo.Subcommands.Add(generate);
        root.Subcommands.Add(demo);
        root.Subcommands.Add(ScoreVerb());
        root.Subcommands.Add(StoreVerbs.Migrate());
        root.Subcommands.Add(StoreVerbs.Load());
        root.Subcommands.Add(TrainingVerbs.Train());
        root.Subcommands.Add(TrainingVerbs.Evaluate());
        root.Subcommands.Add(TrainingVerbs.Recommend());
        return root;
    }

    private static async Task<int> ServeAsync(string[] args)
    {
        try
        {
            await ServiceHost.Build(args).RunAsync();
            return 0;
        }
        catch (OnnxRuntimeException ex)
        {
            // A missing or wrong ONNX Runtime library, or CUDA demanded without a GPU: one line that says what to do.
            await Console.Error.WriteLineAsync($"RecSys cannot start: {ex.Message}");
            return 1;
        }
    }

    /// <summary><c>score --model any.onnx --input rows.csv --out scores.csv</c>: any ONNX model with one float [N, F] input.</summary>
    private static Command ScoreVerb()
    {
        var score = new Command("score", "Score a CSV of feature rows with any ONNX model that has one float input of shape [N, F]; writes every output as CSV columns.");
        var model = new Option<string>("--model") { Description = "The .onnx file.", Required = true };
        var input = new Option<string>("--input") { Description = "CSV of rows, one value per input column; a header row is optional.", Required = true };
        var output = new Option<string>("--out") { Description = "CSV to write, one column per output value.", Required = true };
        var runtime = new Option<string?>("--onnxruntime") { Description = "Path of libonnxruntime.so.1 (default: beside the binaries, or .native/ from scripts/setup)." };
        var batch = new Option<int>("--batch") { Description = "Rows per inference.", DefaultValueFactory = _ => 4096 };
        score.Options.Add(model);
        score.Options.Add(input);
        score.Options.Add(output);
        score.Options.Add(runtime);
        score.Options.Add(batch);
        score.SetAction(async (result, cancellationToken) =>
        {
            var watch = Stopwatch.StartNew();
            try
            {
                var done = await RankingTools.ScoreCsvAsync(new ScoreCsvRequest(result.GetValue(model)!, result.GetValue(input)!, result.GetValue(output)!,
                    result.GetValue(runtime), Math.Max(1, result.GetValue(batch))), Console.Error, cancellationToken);
                Console.WriteLine($"scored {done.Rows} rows of {done.Width} ('{done.Input}') into {string.Join(", ", done.Outputs)} in {watch.Elapsed.TotalSeconds:0.00} s");
                return 0;
            }
            catch (Exception ex) when (ex is OnnxRuntimeException or InvalidDataException or IOException)
            {
                await Console.Error.WriteLineAsync($"score: {ex.Message}");
                return 1;
            }
        });
        return score;
    }
}
