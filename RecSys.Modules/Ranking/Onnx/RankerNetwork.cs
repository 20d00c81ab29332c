namespace RecSys.Ranking.Onnx;

/// <summary>A dense layer y = x W + b, W stored row-major as [In, Out].</summary>
internal sealed record DenseLayer(int In, int Out, float[] Weights, float[] Bias)
{
    public void Validate(string what)
    {
        if (In <= 0 || Out <= 0) throw new ArgumentException($"{what}: sizes must be positive ({In} x {Out}).");
        if (Weights.Length != In * Out) throw new ArgumentException($"{what}: {In} x {Out} weights expected, got {Weights.Length}.");
        if (Bias.Length != Out) throw new ArgumentException($"{what}: {Out} biases expected, got {Bias.Length}.");
    }

    public static DenseLayer Random(int @in, int @out, Random random, float scale)
    {
        var w = new float[@in * @out];
        var b = new float[@out];
        for (var i = 0; i < w.Length; i++) w[i] = (float)((random.NextDouble() * 2) - 1) * scale;
        for (var i = 0; i < b.Length; i++) b[i] = (float)((random.NextDouble() * 2) - 1) * 0.1f;
        return new DenseLayer(@in, @out, w, b);
    }
}

internal enum HeadActivation
{
    Identity,
    Sigmoid,
}

/// <summary>A named model output: a dense layer over the last hidden state, optionally squashed by a sigmoid.</summary>
internal sealed record OutputHead(string Name, DenseLayer Layer, HeadActivation Activation);

/// <summary>
/// The family of ranking networks the writer can express: an optional DCN-v2 cross network
/// (x<sub>l+1</sub> = x<sub>0</sub> ⊙ (x<sub>l</sub> W<sub>l</sub> + b<sub>l</sub>) + x<sub>l</sub>), then ReLU dense layers,
/// then one or more named heads. No cross and no hidden layers with one sigmoid head is logistic regression.
/// <see cref="Evaluate"/> is the plain C# oracle the tests compare ONNX Runtime against.
/// </summary>
internal sealed record RankerNetwork(int InputWidth, IReadOnlyList<DenseLayer> Cross, IReadOnlyList<DenseLayer> Hidden, IReadOnlyList<OutputHead> Heads, string InputName = "features")
{
    public static RankerNetwork Logistic(float[] weights, float bias, string output = "score") =>
        new(weights.Length, [], [], [new OutputHead(output, new DenseLayer(weights.Length, 1, (float[])weights.Clone(), [bias]), HeadActivation.Sigmoid)]);

    /// <summary>A network with random weights (tests, benchmarks, the shape of a model before training).</summary>
    public static RankerNetwork Random(int inputWidth, int crossLayers, int[] hidden, (string Name, HeadActivation Activation)[] heads, int seed)
    {
        var random = new Random(seed);
        var cross = Enumerable.Range(0, crossLayers).Select(_ => DenseLayer.Random(inputWidth, inputWidth, random, 1f / inputWidth)).ToList();
        var layers = new List<DenseLayer>();
        var width = inputWidth;
        foreach (var h in hidden)
        {
            layers.Add(DenseLayer.Random(width, h, random, MathF.Sqrt(2f / width)));
            width = h;
        }
        var outputs = heads.Select(h => new OutputHead(h.Name, DenseLayer.Random(width, 1, random, MathF.Sqrt(1f / width)), h.Activation)).ToList();
        return new RankerNetwork(inputWidth, cross, layers, outputs);
    }

    public int OutputCount => Heads.Count;

    public void Validate()
    {
        if (Heads.Count == 0) throw new ArgumentException("A network needs at least one output head.");
        if (Heads.Select(h => h.Name).Distinct(StringComparer.Ordinal).Count() != Heads.Count) throw new ArgumentException("Output names must be distinct.");
        for (var i = 0; i < Cross.Count; i++)
        {
            Cross[i].Validate($"cross layer {i}");
            if (Cross[i].In != InputWidth || Cross[i].Out != InputWidth) throw new ArgumentException($"cross layer {i} must be {InputWidth} x {InputWidth}.");
        }
        var width = InputWidth;
        for (var i = 0; i < Hidden.Count; i++)
        {
            Hidden[i].Validate($"hidden layer {i}");
            if (Hidden[i].In != width) throw new ArgumentException($"hidden layer {i} takes {Hidden[i].In} inputs, the previous layer gives {width}.");
            width = Hidden[i].Out;
        }
        foreach (var head in Heads)
        {
            head.Layer.Validate($"head {head.Name}");
            if (head.Layer.In != width) throw new ArgumentException($"head {head.Name} takes {head.Layer.In} inputs, the last layer gives {width}.");
        }
    }

    /// <summary>Plain C# evaluation of one row (double accumulation); writes one value per output column, heads in order.</summary>
    public void Evaluate(ReadOnlySpan<float> row, Span<float> outputs)
    {
        var x0 = new double[InputWidth];
        for (var i = 0; i < InputWidth; i++) x0[i] = row[i];
        var x = (double[])x0.Clone();
        foreach (var layer in Cross)
        {
            var t = Dense(layer, x);
            for (var i = 0; i < InputWidth; i++) t[i] = (x0[i] * t[i]) + x[i];
            x = t;
        }
        foreach (var layer in Hidden)
        {
            x = Dense(layer, x);
            for (var i = 0; i < x.Length; i++) x[i] = Math.Max(0, x[i]);
        }
        var o = 0;
        foreach (var head in Heads)
        {
            var y = Dense(head.Layer, x);
            foreach (var v in y) outputs[o++] = (float)(head.Activation == HeadActivation.Sigmoid ? 1 / (1 + Math.Exp(-v)) : v);
        }
    }

    private static double[] Dense(DenseLayer layer, double[] x)
    {
        var y = new double[layer.Out];
        for (var j = 0; j < layer.Out; j++) y[j] = layer.Bias[j];
        for (var i = 0; i < layer.In; i++)
        {
            var xi = x[i];
            if (xi == 0) continue;
            var rowOffset = i * layer.Out;
            for (var j = 0; j < layer.Out; j++) y[j] += xi * layer.Weights[rowOffset + j];
        }
        return y;
    }
}
