using System.Globalization;
using RecSys.Api.Cli;
using RecSys.Ranking.Onnx;

namespace RecSys.Tests.Ranking;

public sealed class ScoreVerbTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("recsys-score-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Scores_a_csv_with_any_single_input_model_and_writes_every_output(bool header)
    {
        var random = new Random(1);
        var network = RankerNetwork.Random(5, 0, [6], [("p", HeadActivation.Sigmoid)], seed: 2);
        network = network with { Heads = [network.Heads[0], new OutputHead("v", DenseLayer.Random(6, 2, random, 0.5f), HeadActivation.Identity)] };
        var modelPath = Path.Combine(_dir, "any.onnx");
        await File.WriteAllBytesAsync(modelPath, OnnxWriter.Write(network));
        var rows = OrtBindingTests.RandomRows(5, 7, 3);
        var lines = Enumerable.Range(0, 7).Select(r => string.Join(',', rows.Skip(r * 5).Take(5).Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
        var input = Path.Combine(_dir, "rows.csv");
        await File.WriteAllLinesAsync(input, header ? ["a,b,c,d,e", .. lines] : lines);
        var output = Path.Combine(_dir, "scores.csv");

        var code = await Verbs.RunAsync(["score", "--model", modelPath, "--input", input, "--out", output, "--batch", "3"]);

        Assert.Equal(0, code);
        var written = await File.ReadAllLinesAsync(output);
        Assert.Equal("p,v_0,v_1", written[0]);
        Assert.Equal(8, written.Length);
        var expected = new float[3];
        for (var r = 0; r < 7; r++)
        {
            network.Evaluate(rows.AsSpan(r * 5, 5), expected);
            var values = written[r + 1].Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            for (var k = 0; k < 3; k++) Assert.Equal(expected[k], values[k], 1e-5);
        }
    }

    [Fact]
    public async Task A_row_of_the_wrong_width_fails_with_its_line_number()
    {
        var modelPath = Path.Combine(_dir, "any.onnx");
        await File.WriteAllBytesAsync(modelPath, OnnxWriter.Write(RankerNetwork.Random(3, 0, [], [("p", HeadActivation.Sigmoid)], seed: 2)));
        var input = Path.Combine(_dir, "rows.csv");
        await File.WriteAllLinesAsync(input, ["1,2,3", "1,2"]);
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        try
        {
            Assert.Equal(1, await Verbs.RunAsync(["score", "--model", modelPath, "--input", input, "--out", Path.Combine(_dir, "o.csv")]));
        }
        finally
        {
            Console.SetError(original);
        }
        Assert.Contains("line 2 has 2 values; the model's input 'features' takes 3", error.ToString(), StringComparison.Ordinal);
    }
}
