using System.Numerics.Tensors;

namespace RecSys.Training.Funnel;

/// <summary>
/// A <see cref="DenseNetwork"/> over full rows of a schema, with the standardisation folded into the first layer: the
/// exact function the exported ONNX model computes (<see cref="DenseNetwork.FoldedLayers"/> is what the exporter writes;
/// a test compares this with ONNX Runtime on the same rows). With several heads the score is Σ weight × sigmoid(head),
/// as the serving ranker combines the model's outputs by the manifest's weights. One instance per thread: it keeps its activations.
/// </summary>
internal sealed class FoldedNetwork
{
    private readonly (float[] Weights, float[] Bias)[] _layers;
    private readonly float[][] _act;
    private readonly int _width;
    private readonly float[] _headWeights;

    /// <param name="headWeights">One weight per head (null: the first head alone).</param>
    public FoldedNetwork(DenseNetwork network, IReadOnlyList<string> schema, IReadOnlyList<double>? headWeights = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(schema);
        if (headWeights is not null && headWeights.Count != network.Heads.Count) throw new ArgumentException($"{headWeights.Count} weights for {network.Heads.Count} heads.", nameof(headWeights));
        _headWeights = new float[network.Heads.Count];
        if (headWeights is null) _headWeights[0] = 1f;
        else for (var h = 0; h < _headWeights.Length; h++) _headWeights[h] = (float)headWeights[h];
        _layers = [.. network.FoldedLayers(schema)];
        _width = schema.Count;
        _act = [new float[_width], .. _layers.Select(l => new float[l.Bias.Length])];
    }

    /// <summary>Scores of <paramref name="n"/> rows (row-major, schema width each): the weighted sum of the heads' sigmoids.</summary>
    public void Score(ReadOnlySpan<float> rows, int n, Span<float> scores)
    {
        for (var r = 0; r < n; r++)
        {
            ReadOnlySpan<float> input = rows.Slice(r * _width, _width);
            for (var l = 0; l < _layers.Length; l++)
            {
                var (w, b) = _layers[l];
                var nIn = l == 0 ? _width : _layers[l - 1].Bias.Length;
                var output = _act[l + 1];
                for (var o = 0; o < b.Length; o++)
                {
                    var z = TensorPrimitives.Dot(w.AsSpan(o * nIn, nIn), input) + b[o];
                    output[o] = l == _layers.Length - 1 ? z : MathF.Max(0, z);
                }
                input = output;
            }
            var score = 0f;
            for (var h = 0; h < _headWeights.Length; h++)
            {
                if (_headWeights[h] != 0) score += _headWeights[h] * (1f / (1f + MathF.Exp(-input[h])));
            }
            scores[r] = score;
        }
    }
}
