namespace RecSys.Ranking.Onnx;

/// <summary>
/// Writes a <see cref="RankerNetwork"/> as an ONNX model (the <c>ModelProto</c> subset of onnx.proto, field numbers from
/// the ONNX specification, written with our own <see cref="ProtoWriter"/>): one float input [N, F] and one float output
/// [N, k] per head. Logistic regression and heads use MatMul + Add (+ Sigmoid), dense layers Gemm + Relu, cross layers
/// MatMul + Add + Mul + Add.
/// </summary>
internal static class OnnxWriter
{
    public const long IrVersion = 8;
    public const long OpsetVersion = 17;
    private const int FloatType = 1;

    public static byte[] Write(RankerNetwork network, string producer = "RecSys", IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        network.Validate();
        var graph = new GraphBuilder();
        var x0 = network.InputName;
        var x = x0;
        for (var l = 0; l < network.Cross.Count; l++)
        {
            var layer = network.Cross[l];
            var w = graph.Initializer($"cross{l}_w", [layer.In, layer.Out], layer.Weights);
            var b = graph.Initializer($"cross{l}_b", [layer.Out], layer.Bias);
            var m = graph.Node("MatMul", [x, w], $"cross{l}_matmul");
            var a = graph.Node("Add", [m, b], $"cross{l}_add");
            var p = graph.Node("Mul", [x0, a], $"cross{l}_mul");
            x = graph.Node("Add", [p, x], $"cross{l}_out");
        }
        for (var l = 0; l < network.Hidden.Count; l++)
        {
            var layer = network.Hidden[l];
            var w = graph.Initializer($"dense{l}_w", [layer.In, layer.Out], layer.Weights);
            var b = graph.Initializer($"dense{l}_b", [layer.Out], layer.Bias);
            var g = graph.Node("Gemm", [x, w, b], $"dense{l}_gemm");
            x = graph.Node("Relu", [g], $"dense{l}_relu");
        }
        foreach (var head in network.Heads)
        {
            var w = graph.Initializer($"{head.Name}_w", [head.Layer.In, head.Layer.Out], head.Layer.Weights);
            var b = graph.Initializer($"{head.Name}_b", [head.Layer.Out], head.Layer.Bias);
            var m = graph.Node("MatMul", [x, w], $"{head.Name}_matmul");
            if (head.Activation == HeadActivation.Sigmoid)
            {
                var a = graph.Node("Add", [m, b], $"{head.Name}_logit");
                graph.Node("Sigmoid", [a], head.Name, outputName: head.Name);
            }
            else
            {
                graph.Node("Add", [m, b], head.Name, outputName: head.Name);
            }
        }

        var model = new ProtoWriter();
        model.Int64(1, IrVersion);                   // ir_version
        model.String(2, producer);                    // producer_name
        model.String(3, "1");                         // producer_version
        model.Message(7, g => graph.WriteGraph(g, network));
        model.Message(8, o => o.String(1, "").Int64(2, OpsetVersion)); // opset_import: default domain
        if (metadata is not null)
        {
            foreach (var (key, value) in metadata) model.Message(14, e => e.String(1, key).String(2, value)); // metadata_props
        }
        return model.ToArray();
    }

    private sealed class GraphBuilder
    {
        private readonly List<(string Name, long[] Dims, float[] Values)> _initializers = [];
        private readonly List<(string Op, string[] Inputs, string Output, string Name)> _nodes = [];

        public string Initializer(string name, long[] dims, float[] values)
        {
            _initializers.Add((name, dims, values));
            return name;
        }

        public string Node(string op, string[] inputs, string name, string? outputName = null)
        {
            var output = outputName ?? name + "_y";
            _nodes.Add((op, inputs, output, name));
            return output;
        }

        public void WriteGraph(ProtoWriter graph, RankerNetwork network)
        {
            foreach (var node in _nodes)
            {
                graph.Message(1, n =>                 // node
                {
                    foreach (var input in node.Inputs) n.String(1, input);
                    n.String(2, node.Output);
                    n.String(3, node.Name);
                    n.String(4, node.Op);
                });
            }
            graph.String(2, "ranker");               // name
            foreach (var (name, dims, values) in _initializers)
            {
                graph.Message(5, t =>                 // initializer: TensorProto
                {
                    foreach (var d in dims) t.Int64(1, d);
                    t.Int64(2, FloatType);
                    t.String(8, name);
                    t.RawFloats(9, values);
                });
            }
            graph.Message(11, v => ValueInfo(v, network.InputName, network.InputWidth)); // input
            foreach (var head in network.Heads) graph.Message(12, v => ValueInfo(v, head.Name, head.Layer.Out)); // output
        }

        /// <summary>A float tensor [N, width] with N symbolic.</summary>
        private static void ValueInfo(ProtoWriter v, string name, int width)
        {
            v.String(1, name);
            v.Message(2, type => type.Message(1, tensor =>             // TypeProto.tensor_type
            {
                tensor.Int64(1, FloatType);                             // elem_type
                tensor.Message(2, shape =>                              // TensorShapeProto
                {
                    shape.Message(1, d => d.String(2, "N"));             // dim_param
                    shape.Message(1, d => d.Int64(1, width));            // dim_value
                });
            }));
        }
    }
}
