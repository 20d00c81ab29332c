using System.Numerics.Tensors;

namespace RecSys.Training;

/// <summary>
/// A trained ranker as plain arrays, ready for export: inputs are standardised ((x - mean) / scale), then each layer
/// computes W x + b (W row-major, outputs x inputs), ReLU between layers, and a sigmoid on each output of the last
/// layer. With no hidden layer and one output this is logistic regression (the pre-ranker); with hidden layers an MLP
/// (the main ranker), whose last layer may have several outputs: heads over a shared trunk, one per label (<see cref="Heads"/>).
/// </summary>
public sealed class DenseNetwork
{
    /// <summary>The name of a single-output network's output.</summary>
    public const string ClickHead = "p_click";

    /// <param name="heads">The names of the last layer's outputs (default: one output, <see cref="ClickHead"/>).</param>
    public DenseNetwork(IReadOnlyList<string> features, float[] inputMean, float[] inputScale, float[][] weights, float[][] biases, IReadOnlyList<string>? heads = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(inputMean);
        ArgumentNullException.ThrowIfNull(inputScale);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(biases);
        if (weights.Length == 0 || weights.Length != biases.Length) throw new ArgumentException("One weight matrix and one bias vector per layer.", nameof(weights));
        if (inputMean.Length != features.Count || inputScale.Length != features.Count) throw new ArgumentException("One mean and one scale per feature.", nameof(inputMean));
        var inputs = features.Count;
        for (var l = 0; l < weights.Length; l++)
        {
            var outputs = biases[l].Length;
            if (weights[l].Length != outputs * inputs) throw new ArgumentException($"Layer {l}: {weights[l].Length} weights for {outputs} x {inputs}.", nameof(weights));
            inputs = outputs;
        }
        heads ??= [ClickHead];
        if (heads.Count == 0 || inputs != heads.Count) throw new ArgumentException($"The last layer has {inputs} outputs for {heads.Count} heads.", nameof(heads));
        if (heads.Distinct(StringComparer.Ordinal).Count() != heads.Count) throw new ArgumentException("Head names must be distinct.", nameof(heads));
        Heads = heads;
        Features = features;
        InputMean = inputMean;
        InputScale = inputScale;
        Weights = weights;
        Biases = biases;
    }

    /// <summary>Feature names, in input order (a subset of the <c>FeatureSchema</c>).</summary>
    public IReadOnlyList<string> Features { get; }
    public float[] InputMean { get; }
    public float[] InputScale { get; }

    /// <summary>Per layer, outputs x inputs, row-major.</summary>
    public float[][] Weights { get; }
    public float[][] Biases { get; }

    public int Layers => Weights.Length;

    /// <summary>The names of the outputs, in the last layer's order; the first is the click probability.</summary>
    public IReadOnlyList<string> Heads { get; }

    /// <summary>Units per layer, input first: [inputs, hidden..., heads].</summary>
    public int[] Sizes => [Features.Count, .. Biases.Select(b => b.Length)];

    /// <summary>The first head's (click) probability of one row (in <see cref="Features"/> order).</summary>
    public float Predict(ReadOnlySpan<float> row)
    {
        Span<float> outputs = stackalloc float[Heads.Count];
        PredictHeads(row, outputs);
        return outputs[0];
    }

    /// <summary>Every head's probability of one row (in <see cref="Features"/> order), heads in <see cref="Heads"/> order.</summary>
    public void PredictHeads(ReadOnlySpan<float> row, Span<float> probabilities)
    {
        var sizes = Sizes;
        var widest = sizes.Max();
        Span<float> a = widest <= 256 ? stackalloc float[widest] : new float[widest];
        Span<float> b = widest <= 256 ? stackalloc float[widest] : new float[widest];
        for (var i = 0; i < sizes[0]; i++) a[i] = (row[i] - InputMean[i]) / InputScale[i];
        var current = a[..sizes[0]];
        for (var l = 0; l < Layers; l++)
        {
            var outputs = sizes[l + 1];
            var next = (l % 2 == 0 ? b : a)[..outputs];
            for (var o = 0; o < outputs; o++)
            {
                var z = TensorPrimitives.Dot(Weights[l].AsSpan(o * current.Length, current.Length), current) + Biases[l][o];
                next[o] = l == Layers - 1 ? z : MathF.Max(0, z);
            }
            current = next;
        }
        for (var h = 0; h < current.Length; h++) probabilities[h] = 1f / (1f + MathF.Exp(-current[h]));
    }

    /// <summary>
    /// The same function over full rows of <paramref name="schema"/> (whose names must include <see cref="Features"/>):
    /// the standardisation is folded into the first layer (w / scale, b - Σ w mean / scale) and features the network
    /// does not read get weight 0. Layers as (weights [outputs, inputs] row-major, bias), input side first.
    /// </summary>
    public IReadOnlyList<(float[] Weights, float[] Bias)> FoldedLayers(IReadOnlyList<string> schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var columns = Features.Select(f =>
        {
            for (var c = 0; c < schema.Count; c++) if (schema[c] == f) return c;
            throw new ArgumentException($"Feature {f} is not in the schema.", nameof(schema));
        }).ToArray();
        var outputs = Biases[0].Length;
        var inputs = Features.Count;
        var first = new float[outputs * schema.Count];
        var bias = new float[outputs];
        for (var o = 0; o < outputs; o++)
        {
            double b = Biases[0][o];
            for (var i = 0; i < inputs; i++)
            {
                var w = Weights[0][(o * inputs) + i] / InputScale[i];
                first[(o * schema.Count) + columns[i]] = w;
                b -= (double)w * InputMean[i];
            }
            bias[o] = (float)b;
        }
        var layers = new List<(float[], float[])> { (first, bias) };
        for (var l = 1; l < Layers; l++) layers.Add(((float[])Weights[l].Clone(), (float[])Biases[l].Clone()));
        return layers;
    }
}
