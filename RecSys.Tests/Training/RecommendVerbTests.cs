using System.Text.Json.Nodes;
using RecSys.Api.Cli;
using RecSys.Training;

namespace RecSys.Tests.Training;

public class RecommendVerbTests
{
    /// <summary>A ratings-only CSV (ids as strings the output must keep): two taste clusters, popularity skewed within each.</summary>
    private static string WriteRatings(TempDirectory dir)
    {
        var rng = new Random(3);
        var lines = new List<(long T, string Line)>();
        for (var u = 0; u < 80; u++)
        {
            var seen = new HashSet<int>();
            for (var n = 0; n < 20; n++)
            {
                int item;
                do item = (2 * (int)(40 * Math.Pow(rng.NextDouble(), 2))) + (rng.NextDouble() < 0.9 ? u % 2 : 1 - (u % 2));
                while (!seen.Add(item));
                long t = 1_000_000 + (n * 1000) + (u * 7);
                lines.Add((t, $"user-{u},film {item},{t}"));
            }
        }
        return dir.Write("ratings.csv", string.Join('\n', ["user_id,item_id,timestamp", .. lines.OrderBy(l => l.T).Select(l => l.Line)]) + "\n");
    }

    [Fact]
    public async Task Recommend_runs_the_funnel_writes_ranked_rows_in_the_inputs_ids_and_never_a_known_item()
    {
        using var dir = new TempDirectory();
        var dataset = DatasetReaders.ReadCsv(WriteRatings(dir), null, null);
        var models = Path.Combine(dir.Path, "models");
        var options = new TrainingOptions { Als = new AlsOptions { Factors = 8, Iterations = 4 }, Evaluate = false, ModelsDirectory = models, Version = "v1" };
        var run = await Trainer.RunAsync(dataset, options, null, CancellationToken.None);
        Assert.Equal(2, run.Rankers.Count);
        var model = TrainedModel.Load(models);
        Assert.True(model.HasFunnel);

        var users = dir.Write("users.txt", "user_id\nuser-3\nuser-10\nnobody\n");
        var output = Path.Combine(dir.Path, "recs.csv");
        Assert.Equal(0, await Verbs.RunAsync(["recommend", "--models", models, "--users", users, "--k", "7", "--out", output]));
        var lines = File.ReadAllLines(output);
        Assert.Equal("user_id,rank,item_id", lines[0]);
        Assert.Equal(3 * 7, lines.Length - 1);
        var known = Splits.Full(dataset);
        foreach (var (user, rows) in lines.Skip(1).Select(l => l.Split(',')).GroupBy(f => f[0]).Select(g => (g.Key, g.ToList())))
        {
            Assert.Equal(Enumerable.Range(1, 7).Select(r => r.ToString(System.Globalization.CultureInfo.InvariantCulture)), rows.Select(f => f[1]));
            Assert.All(rows, f => Assert.StartsWith("film ", f[2], StringComparison.Ordinal));
            Assert.Equal(7, rows.Select(f => f[2]).Distinct().Count());
            if (user == "nobody") continue;
            Assert.True(dataset.TryGetUserIndex(user, out var u));
            var items = known.RowIndices(u).ToArray().Select(i => dataset.ItemIds[i]).ToHashSet();
            Assert.Equal(20, items.Count);
            Assert.DoesNotContain(rows, f => items.Contains(f[2]));
        }

        // The lists are the ranker's: the same version with the ranker's output negated orders them differently.
        var all = Enumerable.Range(0, dataset.UserCount).Select(u => model.Recommend(dataset.UserIds[u], 10)).ToList();
        var rankersPath = Path.Combine(model.Directory, Trainer.RankersFile);
        var rankers = JsonNode.Parse(File.ReadAllText(rankersPath))!.AsArray();
        var last = rankers[1]!["weights"]!.AsArray()[^1]!.AsArray();
        for (var i = 0; i < last.Count; i++) last[i] = -last[i]!.GetValue<float>();
        File.WriteAllText(rankersPath, rankers.ToJsonString());
        var reversed = TrainedModel.Load(models);
        var changed = Enumerable.Range(0, dataset.UserCount).Count(u => !reversed.Recommend(dataset.UserIds[u], 10).SequenceEqual(all[u]));
        Assert.True(changed > dataset.UserCount / 2, $"only {changed} of {dataset.UserCount} lists changed");

        // A corrupt state file is refused with its path.
        var statePath = Path.Combine(model.Directory, Trainer.FunnelStateFile);
        File.WriteAllText(statePath, "{\"nowUnixSeconds\": 1");
        Assert.Contains(statePath, Assert.Throws<InvalidDataException>(() => TrainedModel.Load(models)).Message, StringComparison.Ordinal);
    }
}
