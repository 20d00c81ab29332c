using System.Numerics.Tensors;

namespace RecSys.Training.Rankers;

/// <summary>
/// Mini-batch Adam on binary cross-entropy for a <see cref="DenseNetwork"/>, single-threaded so that a seed fixes the
/// result: seeded He initialisation and per-epoch shuffles. After each epoch the validation loss is measured; training
/// stops after <c>patience</c> epochs without improvement and keeps the best epoch's weights.
/// With several heads (one label array each) the last layer has one output per head over the shared hidden layers, and
/// the loss is the weighted sum of the heads' cross-entropies (early stopping on that sum); one head is exactly the
/// single-label network.
/// </summary>
internal static class NetworkTrainer
{
    public static (DenseNetwork Network, int BestEpoch, int Epochs, double ValidationLoss) Train(
        IReadOnlyList<string> features, float[] x, float[] y, int[] train, int[] validation, int[] hidden, RankerTrainingOptions o) =>
        Train(features, x, [y], [DenseNetwork.ClickHead], [1f], train, validation, hidden, o);

    public static (DenseNetwork Network, int BestEpoch, int Epochs, double ValidationLoss) Train(
        IReadOnlyList<string> features, float[] x, float[][] labels, IReadOnlyList<string> heads, float[] lossWeights, int[] train, int[] validation, int[] hidden, RankerTrainingOptions o)
    {
        if (labels.Length == 0 || labels.Length != heads.Count || lossWeights.Length != heads.Count) throw new ArgumentException("One label array and one loss weight per head.", nameof(labels));
        var inputs = features.Count;
        var outputsCount = heads.Count;
        var sizes = new[] { inputs }.Concat(hidden).Append(outputsCount).ToArray();
        var layers = sizes.Length - 1;

        // Standardisation from the training rows.
        var mean = new float[inputs];
        var scale = new float[inputs];
        foreach (var r in train) TensorPrimitives.Add(mean, x.AsSpan(r * inputs, inputs), mean);
        TensorPrimitives.Divide(mean, Math.Max(1, train.Length), mean);
        foreach (var r in train)
        {
            for (var c = 0; c < inputs; c++)
            {
                var d = x[(r * inputs) + c] - mean[c];
                scale[c] += d * d;
            }
        }
        for (var c = 0; c < inputs; c++)
        {
            var sd = MathF.Sqrt(scale[c] / Math.Max(1, train.Length));
            scale[c] = sd > 1e-6f ? sd : 1f; // a constant feature passes through centred
        }
        var z = new float[x.Length];
        for (var r = 0; r < x.Length / inputs; r++)
        {
            for (var c = 0; c < inputs; c++) z[(r * inputs) + c] = (x[(r * inputs) + c] - mean[c]) / scale[c];
        }

        var rng = new Random(o.Seed);
        var w = new float[layers][];
        var b = new float[layers][];
        for (var l = 0; l < layers; l++)
        {
            w[l] = new float[sizes[l + 1] * sizes[l]];
            b[l] = new float[sizes[l + 1]];
            var std = Math.Sqrt(2.0 / sizes[l]);
            for (var i = 0; i < w[l].Length; i++) w[l][i] = (float)(std * Gaussian(rng));
        }
        // Start each output's bias at its base rate's log-odds.
        for (var h = 0; h < outputsCount; h++)
        {
            var y = labels[h];
            var rate = Math.Clamp(train.Average(r => (double)y[r]), 1e-4, 1 - 1e-4);
            b[layers - 1][h] = (float)Math.Log(rate / (1 - rate));
        }

        var gw = w.Select(a => new float[a.Length]).ToArray();
        var gb = b.Select(a => new float[a.Length]).ToArray();
        var mw = w.Select(a => new float[a.Length]).ToArray();
        var vw = w.Select(a => new float[a.Length]).ToArray();
        var mb = b.Select(a => new float[a.Length]).ToArray();
        var vb = b.Select(a => new float[a.Length]).ToArray();
        var act = sizes.Select(s => new float[s]).ToArray();
        var delta = sizes.Select(s => new float[s]).ToArray();

        var best = (Loss: double.PositiveInfinity, Epoch: 0, W: w.Select(a => (float[])a.Clone()).ToArray(), B: b.Select(a => (float[])a.Clone()).ToArray());
        var order = (int[])train.Clone();
        var step = 0;
        var epoch = 0;
        for (epoch = 1; epoch <= o.MaxEpochs; epoch++)
        {
            rng.Shuffle(order);
            for (var start = 0; start < order.Length; start += o.BatchSize)
            {
                var end = Math.Min(order.Length, start + o.BatchSize);
                foreach (var g in gw) Array.Clear(g);
                foreach (var g in gb) Array.Clear(g);
                for (var n = start; n < end; n++)
                {
                    var r = order[n];
                    Forward(z.AsSpan(r * inputs, inputs), w, b, sizes, act);
                    // d(BCE)/d(logit) = p - y per head, times its loss weight; back through the layers.
                    for (var h = 0; h < outputsCount; h++) delta[layers][h] = lossWeights[h] * (Sigmoid(act[layers][h]) - labels[h][r]);
                    for (var l = layers - 1; l >= 0; l--)
                    {
                        var nIn = sizes[l];
                        var nOut = sizes[l + 1];
                        for (var q = 0; q < nOut; q++)
                        {
                            var d = delta[l + 1][q];
                            if (d == 0) continue;
                            TensorPrimitives.MultiplyAdd(act[l], d, gw[l].AsSpan(q * nIn, nIn), gw[l].AsSpan(q * nIn, nIn));
                            gb[l][q] += d;
                        }
                        if (l == 0) break;
                        var back = delta[l];
                        Array.Clear(back);
                        for (var q = 0; q < nOut; q++)
                        {
                            var d = delta[l + 1][q];
                            if (d != 0) TensorPrimitives.MultiplyAdd(w[l].AsSpan(q * nIn, nIn), d, back, back);
                        }
                        for (var i = 0; i < nIn; i++) if (act[l][i] <= 0) back[i] = 0; // ReLU
                    }
                }
                step++;
                var count = end - start;
                for (var l = 0; l < layers; l++)
                {
                    Adam(w[l], gw[l], mw[l], vw[l], count, step, o, o.L2);
                    Adam(b[l], gb[l], mb[l], vb[l], count, step, o, 0);
                }
            }
            var loss = Loss(z, labels, lossWeights, validation, inputs, w, b, sizes, act);
            if (loss < best.Loss - 1e-6)
            {
                best = (loss, epoch, w.Select(a => (float[])a.Clone()).ToArray(), b.Select(a => (float[])a.Clone()).ToArray());
            }
            else if (epoch - best.Epoch >= o.Patience)
            {
                break;
            }
        }
        return (new DenseNetwork(features, mean, scale, best.W, best.B, heads), best.Epoch, Math.Min(epoch, o.MaxEpochs), best.Loss);
    }

    private static float Sigmoid(float logit) => 1f / (1f + MathF.Exp(-logit));

    /// <summary>Fills the activations; the last layer's holds the logits.</summary>
    private static void Forward(ReadOnlySpan<float> input, float[][] w, float[][] b, int[] sizes, float[][] act)
    {
        input.CopyTo(act[0]);
        var layers = sizes.Length - 1;
        for (var l = 0; l < layers; l++)
        {
            var nIn = sizes[l];
            for (var q = 0; q < sizes[l + 1]; q++)
            {
                var v = TensorPrimitives.Dot(w[l].AsSpan(q * nIn, nIn), act[l]) + b[l][q];
                act[l + 1][q] = l == layers - 1 ? v : MathF.Max(0, v);
            }
        }
    }

    private static double Loss(float[] z, float[][] labels, float[] lossWeights, int[] rows, int inputs, float[][] w, float[][] b, int[] sizes, float[][] act)
    {
        if (rows.Length == 0) return 0;
        var sum = 0.0;
        var last = sizes.Length - 1;
        foreach (var r in rows)
        {
            Forward(z.AsSpan(r * inputs, inputs), w, b, sizes, act);
            for (var h = 0; h < labels.Length; h++)
            {
                var p = Math.Clamp(Sigmoid(act[last][h]), 1e-7, 1 - 1e-7);
                sum -= lossWeights[h] * (labels[h][r] > 0.5f ? Math.Log(p) : Math.Log(1 - p));
            }
        }
        return sum / rows.Length;
    }

    private static void Adam(float[] p, float[] g, float[] m, float[] v, int count, int step, RankerTrainingOptions o, double l2)
    {
        const float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
        var c1 = 1 - Math.Pow(beta1, step);
        var c2 = 1 - Math.Pow(beta2, step);
        var lr = (float)(o.LearningRate * Math.Sqrt(c2) / c1);
        for (var i = 0; i < p.Length; i++)
        {
            var grad = (g[i] / count) + (float)(l2 * p[i]);
            m[i] = (beta1 * m[i]) + ((1 - beta1) * grad);
            v[i] = (beta2 * v[i]) + ((1 - beta2) * grad * grad);
            p[i] -= lr * m[i] / (MathF.Sqrt(v[i]) + eps);
        }
    }

    private static double Gaussian(Random rng)
    {
        var u1 = 1.0 - rng.NextDouble();
        var u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
