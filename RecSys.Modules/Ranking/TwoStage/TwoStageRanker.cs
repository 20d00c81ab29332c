using System.Buffers;
using Microsoft.Extensions.Options;
using RecSys.Features;

namespace RecSys.Ranking.TwoStage;

/// <summary>
/// Stage 4 on the served models: the pre-ranker scores every candidate and keeps the best
/// <see cref="RankingOptions.PreRankKeep"/>, the ranker scores those, and its outputs are combined by the manifest's
/// weights into the final score. Candidates the pre-ranker drops score below every kept one, in pre-ranker order. Both
/// stages go through their model's <see cref="Batching.ScoringBatcher"/>, so concurrent requests share inferences.
/// Buffers are pooled; the only per-request allocations are the batcher's request record and its task.
/// A request may name an extra version (an experiment variant's, <see cref="ScoringOptions.ModelVersion"/>): it leases
/// that version's set, whose models have batchers of their own, so rows of two versions never share an inference.
/// Pre-ranker scores are copied out only when the caller gives room for them (explanations).
/// </summary>
internal sealed class TwoStageRanker : IRanker
{
    private readonly ModelStore store;
    private readonly int _keep;

    /// <summary>Loads the models now, so that the first request's deadline does not pay for it and a broken set-up fails at resolution.</summary>
    public TwoStageRanker(ModelStore store, IOptions<RankingOptions> options)
    {
        this.store = store;
        _keep = options.Value.PreRankKeep;
        _ = store.Current;
    }

    public string ModelVersion => store.Current.Version;

    public FeatureSchema? Schema => store.Current.Schema;

    public FeatureSchema? SchemaOf(string? modelVersion) => store.SchemaOf(modelVersion);

    public async ValueTask ScoreAsync(FeatureMatrix features, Memory<float> scores, CancellationToken cancellationToken) =>
        await ScoreAsync(features, scores, default, cancellationToken).ConfigureAwait(false);

    public async ValueTask<string> ScoreAsync(FeatureMatrix features, Memory<float> scores, ScoringOptions options, CancellationToken cancellationToken)
    {
        var n = features.Rows;
        if (scores.Length < n) throw new ArgumentException($"Need room for {n} scores, got {scores.Length}.", nameof(scores));
        var preScores = options.PreRankerScores;
        if (!preScores.IsEmpty && preScores.Length < n) throw new ArgumentException($"Need room for {n} pre-ranker scores, got {preScores.Length}.", nameof(options));
        var rankerScores = options.RankerScores;
        if (!rankerScores.IsEmpty && rankerScores.Length < n) throw new ArgumentException($"Need room for {n} ranker scores, got {rankerScores.Length}.", nameof(options));
        var set = store.Acquire(options.ModelVersion);
        float[]? remapped = null;
        try
        {
            var width = set.Schema.Count;
            var rows = features.Data;
            if (!ReferenceEquals(features.Schema, set.Schema) && !features.Schema.Names.SequenceEqual(set.Schema.Names))
            {
                // Rows assembled for another schema (a swap between assembly and scoring): pick the model's columns.
                remapped = ArrayPool<float>.Shared.Rent(n * width);
                Remap(features, set.Schema, remapped);
                rows = remapped.AsMemory(0, n * width);
            }

            if (n == 0) return set.Version;
            if (set.Pre is null || n <= _keep)
            {
                if (!preScores.IsEmpty)
                {
                    if (set.Pre is null) preScores.Span[..n].Fill(float.NaN);
                    else await PreRankAsync(set.Pre, rows, n, preScores[..n], cancellationToken).ConfigureAwait(false);
                }
                await ScoreWithRankerAsync(set.Ranker, rows, n, scores[..n], cancellationToken).ConfigureAwait(false);
                if (!rankerScores.IsEmpty) scores.Span[..n].CopyTo(rankerScores.Span);
            }
            else
            {
                await ScoreTwoStagesAsync(set, rows, n, width, scores[..n], preScores.IsEmpty ? default : preScores[..n],
                    rankerScores.IsEmpty ? default : rankerScores[..n], cancellationToken).ConfigureAwait(false);
            }
            return set.Version;
        }
        finally
        {
            if (remapped is not null) ArrayPool<float>.Shared.Return(remapped);
            set.Release();
        }
    }

    /// <summary>Only for explanations when every row is kept: the pre-ranker's scores, which ranking itself does not need then.</summary>
    private static async ValueTask PreRankAsync(StageModel pre, ReadOnlyMemory<float> rows, int n, Memory<float> destination, CancellationToken cancellationToken)
    {
        var preOut = ArrayPool<float>.Shared.Rent(n * pre.Model.TotalOutputWidth);
        try
        {
            await pre.Batcher.ScoreAsync(rows, n, preOut.AsMemory(0, n * pre.Model.TotalOutputWidth), cancellationToken).ConfigureAwait(false);
            preOut.AsSpan(pre.Model.OutputOffset(pre.OutputNames[0], n), n).CopyTo(destination.Span);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(preOut);
        }
    }

    private async ValueTask ScoreTwoStagesAsync(RankingModelSet set, ReadOnlyMemory<float> rows, int n, int width, Memory<float> scores, Memory<float> preScores,
        Memory<float> rankerScores, CancellationToken cancellationToken)
    {
        var pre = set.Pre!;
        var preOut = ArrayPool<float>.Shared.Rent(n * pre.Model.TotalOutputWidth);
        var keys = ArrayPool<float>.Shared.Rent(n);
        var order = ArrayPool<int>.Shared.Rent(n);
        var kept = ArrayPool<float>.Shared.Rent(_keep * width);
        var keptScores = ArrayPool<float>.Shared.Rent(_keep);
        try
        {
            await pre.Batcher.ScoreAsync(rows, n, preOut.AsMemory(0, n * pre.Model.TotalOutputWidth), cancellationToken).ConfigureAwait(false);
            var preColumn = preOut.AsSpan(pre.Model.OutputOffset(pre.OutputNames[0], n), n);
            if (!preScores.IsEmpty) preColumn.CopyTo(preScores.Span);
            ScoreOrder.Descending(preColumn, keys.AsSpan(0, n), order.AsSpan(0, n));
            Gather(rows.Span, order.AsSpan(0, _keep), width, kept);
            await ScoreWithRankerAsync(set.Ranker, kept.AsMemory(0, _keep * width), _keep, keptScores.AsMemory(0, _keep), cancellationToken).ConfigureAwait(false);
            Merge(keptScores.AsSpan(0, _keep), keys.AsSpan(0, n), order.AsSpan(0, n), scores.Span);
            if (!rankerScores.IsEmpty)
            {
                var destination = rankerScores.Span;
                destination.Fill(float.NaN);
                for (var i = 0; i < _keep; i++) destination[order[i]] = keptScores[i];
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(preOut);
            ArrayPool<float>.Shared.Return(keys);
            ArrayPool<int>.Shared.Return(order);
            ArrayPool<float>.Shared.Return(kept);
            ArrayPool<float>.Shared.Return(keptScores);
        }
    }

    private static void Gather(ReadOnlySpan<float> rows, ReadOnlySpan<int> chosen, int width, float[] destination)
    {
        for (var i = 0; i < chosen.Length; i++) rows.Slice(chosen[i] * width, width).CopyTo(destination.AsSpan(i * width, width));
    }

    /// <summary>Kept candidates get the ranker's score; dropped ones rank below every kept one, in pre-ranker order.</summary>
    private static void Merge(ReadOnlySpan<float> keptScores, ReadOnlySpan<float> keys, ReadOnlySpan<int> order, Span<float> final)
    {
        var keep = keptScores.Length;
        var floor = float.PositiveInfinity;
        for (var i = 0; i < keep; i++)
        {
            final[order[i]] = keptScores[i];
            floor = Math.Min(floor, keptScores[i]);
        }
        if (!float.IsFinite(floor)) floor = 0;
        var bestDropped = -keys[keep];
        for (var i = keep; i < order.Length; i++)
        {
            var pre = -keys[i];
            final[order[i]] = float.IsFinite(pre) && float.IsFinite(bestDropped) ? floor - 1 - (bestDropped - pre) : floor - 1 - (i - keep);
        }
    }

    /// <summary>Runs the ranker and combines its weighted outputs into one score per row.</summary>
    private static async ValueTask ScoreWithRankerAsync(StageModel ranker, ReadOnlyMemory<float> rows, int n, Memory<float> scores, CancellationToken cancellationToken)
    {
        var outputs = ArrayPool<float>.Shared.Rent(n * ranker.Model.TotalOutputWidth);
        try
        {
            await ranker.Batcher.ScoreAsync(rows, n, outputs.AsMemory(0, n * ranker.Model.TotalOutputWidth), cancellationToken).ConfigureAwait(false);
            Combine(ranker, outputs, n, scores.Span);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(outputs);
        }
    }

    internal static void Combine(StageModel ranker, float[] outputs, int n, Span<float> scores)
    {
        scores[..n].Clear();
        for (var j = 0; j < ranker.OutputNames.Length; j++)
        {
            var column = outputs.AsSpan(ranker.Model.OutputOffset(ranker.OutputNames[j], n), n);
            var weight = (float)ranker.Weights[j];
            for (var i = 0; i < n; i++) scores[i] += weight * column[i];
        }
    }

    private static void Remap(FeatureMatrix features, FeatureSchema target, float[] destination)
    {
        var columns = new int[target.Count];
        var i = 0;
        foreach (var name in target.Names)
        {
            var index = features.Schema.IndexOf(name);
            if (index < 0) throw new InvalidOperationException($"The rows lack feature '{name}' that model version needs.");
            columns[i++] = index;
        }
        var data = features.Data.Span;
        for (var r = 0; r < features.Rows; r++)
        {
            var row = data.Slice(r * features.Columns, features.Columns);
            var target_row = destination.AsSpan(r * target.Count, target.Count);
            for (var c = 0; c < columns.Length; c++) target_row[c] = row[columns[c]];
        }
    }
}
