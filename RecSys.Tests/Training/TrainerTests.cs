using RecSys.Training;

namespace RecSys.Tests.Training;

public class TrainerTests
{
    private static readonly TrainingOptions Options = new()
    {
        Als = new AlsOptions { Factors = 8, Iterations = 3 },
        EvaluationUsers = 100,
        Version = "v-test",
    };

    [Fact]
    public async Task A_run_writes_a_version_folder_points_current_at_it_and_recommends_from_it()
    {
        using var dir = new TempDirectory();
        var dataset = DatasetReaders.FromDemoWorld(TestWorld.Small);
        var run = await Trainer.RunAsync(dataset, Options with { ModelsDirectory = dir.Path }, null, CancellationToken.None);

        Assert.Equal(Path.Combine(dir.Path, "v-test"), run.Directory);
        Assert.Equal("v-test", File.ReadAllText(Path.Combine(dir.Path, Trainer.CurrentFile)).Trim());
        foreach (var file in new[] { Trainer.ItemVectorsFile, Trainer.ItemIdsFile, Trainer.UserVectorsFile, Trainer.UserIdsFile, Trainer.UserItemsFile, Trainer.ReportJsonFile, Trainer.ReportMarkdownFile })
        {
            Assert.True(File.Exists(Path.Combine(run.Directory, file)), file);
        }
        Assert.Equal(["MostPop", "ItemKNN (cosine)", "ALS (8 factors)"], run.Evaluation.Take(3).Select(r => r.Method));
        // The whole funnel is its own row, scored with rankers trained on the split's training events only.
        Assert.StartsWith("Funnel", run.Evaluation[3].Method, StringComparison.Ordinal);
        Assert.Same(run.Funnel!.Metrics, run.Evaluation[3]);
        Assert.Equal(2, run.EvaluationRankers.Count);
        Assert.NotEqual(run.Rankers[1].Network.Weights[0], run.EvaluationRankers[1].Network.Weights[0]);
        Assert.Contains("The funnel on the evaluation split", File.ReadAllText(Path.Combine(run.Directory, Trainer.ReportMarkdownFile)), StringComparison.Ordinal);
        Assert.Contains("recall@20", File.ReadAllText(Path.Combine(run.Directory, Trainer.ReportMarkdownFile)), StringComparison.Ordinal);
        // The demo log has impressions: both rankers are trained on them and their weights written.
        Assert.Equal(2, run.Rankers.Count);
        Assert.All(run.Rankers, r => Assert.InRange(r.ValidationAuc, 0.5, 1.0));
        Assert.True(File.Exists(Path.Combine(run.Directory, Trainer.RankersFile)));

        var model = TrainedModel.Load(dir.Path);
        Assert.True(model.HasFunnel); // the version has rankers: recommendations run the whole funnel
        Assert.True(File.Exists(Path.Combine(run.Directory, Trainer.FunnelStateFile)));
        Assert.Equal(dataset.ItemCount, model.ItemIds.Count);
        Assert.Equal(8, model.Dimensions);
        // A user's list holds k distinct items, none of which they already interacted with.
        var known = Splits.Full(dataset);
        for (var u = 0; u < dataset.UserCount; u += 37)
        {
            var list = model.Recommend(dataset.UserIds[u], 20);
            Assert.Equal(20, list.Length);
            Assert.Equal(20, list.Distinct().Count());
            Assert.DoesNotContain(list, i => known.RowIndices(u).Contains(i));
        }
        Assert.Equal(20, model.Recommend("nobody", 20).Length); // popular items for an unknown user

        // The ONNX models in the manifest's format load in ONNX Runtime and score as the trainer's networks do.
        var manifest = System.Text.Json.JsonSerializer.Deserialize<RecSys.Ranking.ModelManifest>(
            File.ReadAllText(Path.Combine(run.Directory, Trainer.ManifestFile)), new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web))!;
        Assert.Equal("v-test", manifest.Version);
        Assert.Equal(RecSys.Features.FeatureSchema.Default.Names, manifest.Features);
        var width = manifest.Features.Count;
        const int n = 64;
        var rng = new Random(3);
        var input = new float[n * width];
        for (var i = 0; i < input.Length; i++) input[i] = (float)rng.NextDouble();
        // The demo log has likes and dwell: the ranker has those heads, and the manifest weights them.
        Assert.Equal(["p_click", "p_like", "p_dwell"], run.Rankers[1].Network.Heads);
        Assert.Equal(run.Rankers[1].Outputs, manifest.Ranker.Outputs);
        Assert.Equal(new RankerHeadsOptions().LikeWeight, manifest.Ranker.Outputs["p_like"]);
        foreach (var (file, outputs, ranker) in new[] { (manifest.PreRanker!.File, new[] { manifest.PreRanker.Output }, run.Rankers[0]), (manifest.Ranker.File, new[] { "p_click", "p_like", "p_dwell" }, run.Rankers[1]) })
        {
            using var onnx = RecSys.Ranking.Onnx.OnnxModel.Load(RecSys.Tests.Ranking.OrtBindingTests.Runtime, Path.Combine(run.Directory, file), RecSys.Tests.Ranking.OrtBindingTests.Cpu);
            Assert.Equal(outputs, onnx.Outputs.Select(o => o.Name));
            var scores = new float[n * outputs.Length];
            onnx.Run(input, n, width, scores);
            var columns = ranker.Network.Features.Select(f => manifest.Features.ToList().IndexOf(f)).ToArray();
            var expected = new float[outputs.Length];
            for (var h = 0; h < outputs.Length; h++)
            {
                var spread = 0.0;
                var offset = onnx.OutputOffset(outputs[h], n);
                for (var r = 0; r < n; r++)
                {
                    ranker.Network.PredictHeads(columns.Select(c => input[(r * width) + c]).ToArray(), expected);
                    var actual = scores[offset + r];
                    Assert.True(Math.Abs(expected[h] - actual) < 1e-5, $"{file} {outputs[h]} row {r}: ONNX {actual}, trainer {expected[h]}");
                    spread += Math.Abs(actual - scores[offset]);
                }
                Assert.True(spread > 1e-4, $"{file} {outputs[h]}: scores do not depend on the row");
            }
        }

        // The same version again is refused, and the folder is untouched.
        await Assert.ThrowsAsync<IOException>(() => Trainer.RunAsync(dataset, Options with { ModelsDirectory = dir.Path }, null, CancellationToken.None));
    }

    [Fact]
    public async Task A_corrupt_vector_file_is_refused_with_its_path()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "v.bin");
        await VectorFile.WriteAsync(path, [1f, 2f, 3f, 4f, 5f, 6f], 2, 3, CancellationToken.None);
        var (data, count, dims) = VectorFile.Read(path);
        Assert.Equal((2, 3), (count, dims));
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], data);

        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^4]);
        var truncated = Assert.Throws<InvalidDataException>(() => VectorFile.Read(path));
        Assert.Contains(path, truncated.Message, StringComparison.Ordinal);

        BitConverter.GetBytes(float.NaN).CopyTo(bytes, 12);
        File.WriteAllBytes(path, bytes);
        Assert.Throws<InvalidDataException>(() => VectorFile.Read(path));
    }

    [Fact]
    public void Loading_a_folder_without_a_model_says_what_is_missing()
    {
        using var dir = new TempDirectory();
        var ex = Assert.Throws<DirectoryNotFoundException>(() => TrainedModel.Load(dir.Path));
        Assert.Contains("Run `train` first", ex.Message, StringComparison.Ordinal);
    }
}
