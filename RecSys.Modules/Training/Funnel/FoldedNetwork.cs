using System.Numerics.Tensors;

namespace RecSys.Training.Funnel;

/// <summary>
/// A <see cref="DenseNetwork"/> over full rows of a schema, with the standardisation folded into the first layer: the
/// exact function the exported ONNX model computes (<see cref="DenseNetwork.FoldedLayers"/> is what the exporter writes;
/// a test compares this with ONNX Runtime on the same rows). One instance per thread: it keeps its activations.
/// </summary>
internal sealed class FoldedNetwork
{
    private readonly (float[] Weights, float[] Bias)[] _layers;
    private readonly float[][] _act;
    private readonly int _width;

    public FoldedNetwork(DenseNetwork network, IReadOnlyList<string> schema)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(schema);
        _layers = [.. network.FoldedLayers(schema)];
        _width = schema.Count;
        _act = [new float[_width], .. _layers.Select(l => new float[l.Bias.Length])];
    }

    /// <summary>Sigmoid outputs of <paramref name="n"/> rows (row-major, schema width each).</summary>
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
            scores[r] = 1f / (1f + MathF.Exp(-input[0]));
        }
    }
}
