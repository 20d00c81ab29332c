using RecSys.Ranking.Onnx;

namespace RecSys.Ranking;

/// <summary>
/// The public door to the ONNX writer for producers outside this module (the trainer): a ReLU MLP with one sigmoid
/// output (or several, over shared hidden layers), or with no hidden layer logistic regression, written as an ONNX model with one float input [N, F].
/// </summary>
public static class OnnxModelExport
{
    /// <param name="inputWidth">F, the width of the feature rows.</param>
    /// <param name="layers">Every layer, input side first, weights row-major [outputs, inputs]; the last has one output (the logit).</param>
    /// <param name="outputName">The model's output name (<c>score</c> for the pre-ranker, <c>p_click</c> for the ranker).</param>
    public static byte[] WriteSigmoidNetwork(int inputWidth, IReadOnlyList<(float[] Weights, float[] Bias)> layers, string outputName, string producer = "RecSys trainer")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outputName);
        return WriteSigmoidHeads(inputWidth, layers, [outputName], producer);
    }

    /// <summary>
    /// The same network with several sigmoid outputs: the last layer has one output per name, each written as its own
    /// model output [N, 1] over the shared hidden layers (what the serving ranker combines by the manifest's weights).
    /// </summary>
    /// <param name="layers">Every layer, input side first, weights row-major [outputs, inputs]; the last has one output (logit) per name.</param>
    public static byte[] WriteSigmoidHeads(int inputWidth, IReadOnlyList<(float[] Weights, float[] Bias)> layers, IReadOnlyList<string> outputNames, string producer = "RecSys trainer")
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(outputNames);
        if (outputNames.Count == 0 || outputNames.Any(string.IsNullOrWhiteSpace)) throw new ArgumentException("At least one output, each named.", nameof(outputNames));
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
        if (width != outputNames.Count) throw new ArgumentException($"The last layer has {width} outputs for {outputNames.Count} names.", nameof(layers));
        // Output o of the last layer is column o of its [inputs, outputs] matrix: one single-output head each.
        var last = dense[^1];
        var heads = new List<OutputHead>();
        for (var o = 0; o < width; o++)
        {
            var column = new float[last.In];
            for (var i = 0; i < last.In; i++) column[i] = last.Weights[(i * last.Out) + o];
            heads.Add(new OutputHead(outputNames[o], new DenseLayer(last.In, 1, column, [last.Bias[o]]), HeadActivation.Sigmoid));
        }
        var network = new RankerNetwork(inputWidth, [], dense[..^1], heads);
        network.Validate();
        return OnnxWriter.Write(network, producer);
    }
}
