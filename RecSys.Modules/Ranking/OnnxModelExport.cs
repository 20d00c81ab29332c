using RecSys.Ranking.Onnx;

namespace RecSys.Ranking;

/// <summary>
/// The public door to the ONNX writer for producers outside this module (the trainer): a ReLU MLP with one sigmoid
/// output, or with no hidden layer logistic regression, written as an ONNX model with one float input [N, F].
/// </summary>
public static class OnnxModelExport
{
    /// <param name="inputWidth">F, the width of the feature rows.</param>
    /// <param name="layers">Every layer, input side first, weights row-major [outputs, inputs]; the last has one output (the logit).</param>
    /// <param name="outputName">The model's output name (<c>score</c> for the pre-ranker, <c>p_click</c> for the ranker).</param>
    public static byte[] WriteSigmoidNetwork(int inputWidth, IReadOnlyList<(float[] Weights, float[] Bias)> layers, string outputName, string producer = "RecSys trainer")
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputName);
        if (layers.Count == 0) throw new ArgumentException("At least one layer.", nameof(layers));
        var dense = new List<DenseLayer>();
        var width = inputWidth;
        foreach (var (weights, bias) in layers)
        {
            var outputs = bias.Length;
            if (weights.Length != outputs * width) throw new ArgumentException($"A layer of {outputs} outputs over {width} inputs needs {outputs * width} weights, not {weights.Length}.", nameof(layers));
            // Ours are [outputs, inputs]; the writer's DenseLayer is y = x W + b with W as [inputs, outputs].
            var transposed = new float[weights.Length];
            for (var o = 0; o < outputs; o++)
            {
                for (var i = 0; i < width; i++) transposed[(i * outputs) + o] = weights[(o * width) + i];
            }
            dense.Add(new DenseLayer(width, outputs, transposed, (float[])bias.Clone()));
            width = outputs;
        }
        if (width != 1) throw new ArgumentException("The last layer must have one output.", nameof(layers));
        var network = new RankerNetwork(inputWidth, [], dense[..^1], [new OutputHead(outputName, dense[^1], HeadActivation.Sigmoid)]);
        network.Validate();
        return OnnxWriter.Write(network, producer);
    }
}
