using Microsoft.Extensions.Logging;
using RecSys.Features;
using RecSys.Ranking.Batching;
using RecSys.Ranking.Onnx;

namespace RecSys.Ranking.TwoStage;

/// <summary>A model, its batcher, and what the manifest says about it.</summary>
internal sealed record StageModel(string Role, string File, OnnxModel Model, ScoringBatcher Batcher, string[] OutputNames, double[] Weights) : IDisposable
{
    public void Dispose()
    {
        Batcher.Dispose();
        Model.Dispose();
    }
}

/// <summary>
/// One served version: the schema, the pre-ranker (optional) and the ranker. Requests lease it for the whole scoring
/// call; a swap retires it, and it is disposed when the last lease is returned, so in-flight requests finish on it.
/// </summary>
internal sealed class RankingModelSet : IDisposable
{
    private int _leases = 1; // the store's own reference, dropped by Retire

    public RankingModelSet(string version, string source, FeatureSchema schema, StageModel? pre, StageModel ranker)
    {
        Version = version;
        Source = source;
        Schema = schema;
        Pre = pre;
        Ranker = ranker;
        LoadedAt = DateTimeOffset.UtcNow;
    }

    public string Version { get; }
    public string Source { get; }
    public FeatureSchema Schema { get; }
    public StageModel? Pre { get; }
    public StageModel Ranker { get; }
    public DateTimeOffset LoadedAt { get; }
    public bool IsDisposed { get; private set; }

    public bool TryAcquire()
    {
        while (true)
        {
            var leases = Volatile.Read(ref _leases);
            if (leases == 0) return false;
            if (Interlocked.CompareExchange(ref _leases, leases + 1, leases) == leases) return true;
        }
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _leases) == 0) Dispose();
    }

    public void Retire() => Release();

    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        Pre?.Dispose();
        Ranker.Dispose();
    }

    /// <summary>Builds a stage over a loaded model after checking it against the schema and the outputs the manifest names.</summary>
    public static StageModel Stage(string role, string file, OnnxModel model, FeatureSchema schema, IReadOnlyDictionary<string, double> outputs, BatcherSettings settings, ILogger logger)
    {
        if (model.Inputs.Count != 1 || model.Inputs[0].ElementType != "float" || model.Inputs[0].Shape.Count != 2)
        {
            throw new ModelRejectedException($"The {role} {file} must have one float input of shape [N, F]; it has {Describe(model.Inputs)}.");
        }
        if (model.InputWidth != schema.Count)
        {
            throw new ModelRejectedException($"The {role} {file} takes {(model.InputWidth < 0 ? "an open number of" : model.InputWidth)} features per row but the manifest's schema lists {schema.Count}; refused.");
        }
        if (model.TotalOutputWidth <= 0)
        {
            throw new ModelRejectedException($"The {role} {file} has outputs whose widths are not fixed: {Describe(model.Outputs)}.");
        }
        var names = new string[outputs.Count];
        var weights = new double[outputs.Count];
        var i = 0;
        foreach (var (name, weight) in outputs)
        {
            var index = model.Outputs.ToList().FindIndex(o => o.Name == name);
            if (index < 0) throw new ModelRejectedException($"The manifest names output '{name}' of the {role} {file}, which has only {string.Join(", ", model.Outputs.Select(o => o.Name))}.");
            if (model.OutputWidth(index) != 1 || model.Outputs[index].ElementType != "float") throw new ModelRejectedException($"Output '{name}' of the {role} {file} must be float [N] or [N, 1]; it is {Describe([model.Outputs[index]])}.");
            if (!double.IsFinite(weight)) throw new ModelRejectedException($"The weight of output '{name}' of the {role} is not a finite number.");
            names[i] = name;
            weights[i++] = weight;
        }
        if (names.Length == 0) throw new ModelRejectedException($"The manifest names no output of the {role} {file}.");
        return new StageModel(role, file, model, new ScoringBatcher(model, settings, logger, role), names, weights);
    }

    private static string Describe(IEnumerable<OnnxTensorInfo> tensors) =>
        string.Join(", ", tensors.Select(t => $"{t.Name}: {t.ElementType}[{string.Join(", ", t.Shape.Select(d => d < 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}]"));
}
