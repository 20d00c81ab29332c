using RecSys.Ranking.Onnx;

namespace RecSys.Tests.Ranking;

/// <summary>Models our writer produces load in ONNX Runtime and give the numbers of a plain C# evaluation of the same weights.</summary>
public class OnnxWriterTests
{
    public static TheoryData<string, int, int, int[], string[]> Networks => new()
    {
        { "logistic regression", 29, 0, [], ["score"] },
        { "MLP, one head", 40, 0, [32, 16], ["p_click"] },
        { "MLP, three heads", 40, 0, [64, 32], ["p_click", "p_like", "dwell"] },
        { "DCN-v2 cross + deep", 24, 2, [32], ["p_click", "dwell"] },
        { "cross only", 10, 3, [], ["score"] },
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void Written_models_match_a_plain_CSharp_evaluation(string kind, int width, int cross, int[] hidden, string[] heads)
    {
        var network = RankerNetwork.Random(width, cross, hidden,
            heads.Select(h => (h, h == "dwell" ? HeadActivation.Identity : HeadActivation.Sigmoid)).ToArray(), seed: kind.Length);
        using var model = OnnxModel.Load(OrtBindingTests.Runtime, OnnxWriter.Write(network), OrtBindingTests.Cpu);
        Assert.Equal(heads, model.Outputs.Select(o => o.Name));

        const int rows = 37;
        var input = OrtBindingTests.RandomRows(width, rows, seed: 11);
        var output = new float[rows * heads.Length];
        model.Run(input, rows, width, output);

        var expected = new float[heads.Length];
        var spread = 0.0;
        for (var r = 0; r < rows; r++)
        {
            network.Evaluate(input.AsSpan(r * width, width), expected);
            for (var h = 0; h < heads.Length; h++)
            {
                var actual = output[(h * rows) + r]; // outputs are laid out output after output
                Assert.True(Math.Abs(actual - expected[h]) <= 1e-5 * Math.Max(1, Math.Abs(expected[h])),
                    $"{kind}: row {r} output {heads[h]}: ORT {actual}, C# {expected[h]}");
                spread += Math.Abs(expected[h] - output[h * rows]);
            }
        }
        Assert.True(spread > 1e-3, "outputs do not depend on the row: the comparison would prove nothing");
    }

    [Fact]
    public void Logistic_regression_is_sigmoid_of_the_dot_product()
    {
        float[] w = [0.5f, -1f, 2f];
        var network = RankerNetwork.Logistic(w, -0.25f);
        using var model = OnnxModel.Load(OrtBindingTests.Runtime, OnnxWriter.Write(network), OrtBindingTests.Cpu);
        var output = new float[2];
        model.Run([1f, 2f, 3f, 0f, 0f, 0f], 2, 3, output);
        Assert.Equal(1 / (1 + Math.Exp(-(0.5 - 2 + 6 - 0.25))), output[0], 1e-6);
        Assert.Equal(1 / (1 + Math.Exp(0.25)), output[1], 1e-6);
    }

    [Fact]
    public void Inconsistent_networks_are_refused_before_writing()
    {
        var bad = new RankerNetwork(4, [], [new DenseLayer(5, 2, new float[10], new float[2])], [new OutputHead("s", new DenseLayer(2, 1, new float[2], new float[1]), HeadActivation.Sigmoid)]);
        var ex = Assert.Throws<ArgumentException>(() => OnnxWriter.Write(bad));
        Assert.Contains("hidden layer 0 takes 5 inputs", ex.Message, StringComparison.Ordinal);
    }
}
