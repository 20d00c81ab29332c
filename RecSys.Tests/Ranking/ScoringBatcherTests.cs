using Microsoft.Extensions.Logging.Abstractions;
using RecSys.Ranking.Batching;
using RecSys.Ranking.Onnx;

namespace RecSys.Tests.Ranking;

public class ScoringBatcherTests
{
    private const int Width = 12;

    /// <summary>A real model with two outputs of widths 1 and 3, so that scattering handles [N, k] outputs too.</summary>
    private static OnnxModel TwoOutputModel()
    {
        var random = new Random(9);
        var network = RankerNetwork.Random(Width, 1, [16], [("p", HeadActivation.Sigmoid)], seed: 4) with { };
        var wide = new OutputHead("v", DenseLayer.Random(16, 3, random, 0.3f), HeadActivation.Identity);
        network = network with { Heads = [network.Heads[0], wide] };
        return OnnxModel.Load(OrtBindingTests.Runtime, OnnxWriter.Write(network), OrtBindingTests.Cpu);
    }

    /// <summary>Runs the wrapped model, but the first run waits until the test opens the gate (to make requests queue up).</summary>
    private sealed class GatedModel(IBatchModel inner) : IBatchModel
    {
        public readonly ManualResetEventSlim Gate = new(false);
        public readonly ManualResetEventSlim Entered = new(false);
        public Exception? Failure;
        public int Runs;

        public int InputWidth => inner.InputWidth;
        public int OutputWidth => inner.OutputWidth;
        public IReadOnlyList<int> OutputWidths => inner.OutputWidths;

        public void Run(ReadOnlySpan<float> input, int rows, Span<float> output)
        {
            Interlocked.Increment(ref Runs);
            Entered.Set();
            Gate.Wait(TimeSpan.FromSeconds(10));
            if (Failure is not null) throw Failure;
            inner.Run(input, rows, output);
        }
    }

    private static float[] Expected(OnnxModel model, float[] rows, int n)
    {
        var output = new float[n * model.TotalOutputWidth];
        model.Run(rows, n, Width, output);
        return output;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task Each_request_gets_its_own_rows_back_under_concurrency(int concurrentBatches)
    {
        using var model = TwoOutputModel();
        Assert.Equal([1, 3], ((IBatchModel)model).OutputWidths);
        using var batcher = new ScoringBatcher(model, new BatcherSettings(256, TimeSpan.FromMilliseconds(0.3), 64, concurrentBatches), NullLogger.Instance, "test");

        for (var round = 0; round < 3; round++)
        {
            var random = new Random(round);
            var requests = Enumerable.Range(0, 48).Select(i =>
            {
                var n = random.Next(1, 300); // some exceed MaxBatchRows and get a batch of their own
                return (Rows: OrtBindingTests.RandomRows(Width, n, (round * 1000) + i), N: n);
            }).ToList();
            var results = await Task.WhenAll(requests.Select(r => Task.Run(async () =>
            {
                var output = new float[r.N * 4];
                await batcher.ScoreAsync(r.Rows, r.N, output, CancellationToken.None);
                return output;
            })));
            for (var i = 0; i < requests.Count; i++)
            {
                var expected = Expected(model, requests[i].Rows, requests[i].N);
                for (var j = 0; j < expected.Length; j++) Assert.Equal(expected[j], results[i][j], 5);
            }
        }
        Assert.True(batcher.Counters.Rows > 0);
    }

    [Fact]
    public async Task Requests_that_queue_behind_a_running_batch_share_the_next_one()
    {
        using var inner = TwoOutputModel();
        var gated = new GatedModel(inner);
        using var batcher = new ScoringBatcher(gated, new BatcherSettings(4096, TimeSpan.FromMilliseconds(1), 64), NullLogger.Instance, "test");

        var first = Task.Run(() => batcher.ScoreAsync(OrtBindingTests.RandomRows(Width, 5, 1), 5, new float[20], default).AsTask());
        Assert.True(gated.Entered.Wait(TimeSpan.FromSeconds(10)));
        var queued = Enumerable.Range(0, 10).Select(i =>
        {
            var rows = OrtBindingTests.RandomRows(Width, 20, 100 + i);
            var output = new float[80];
            return (Rows: rows, Output: output, Task: batcher.ScoreAsync(rows, 20, output, default).AsTask());
        }).ToList();
        await Task.Delay(50);
        gated.Gate.Set();
        await first;
        await Task.WhenAll(queued.Select(q => q.Task));

        Assert.Equal(2, batcher.Counters.Batches); // the first alone, then all ten together
        Assert.Equal(205, batcher.Counters.Rows);
        foreach (var q in queued) Assert.Equal(Expected(inner, q.Rows, 20), q.Output);
    }

    [Fact]
    public async Task A_request_cancelled_while_queued_is_dropped_and_its_buffer_never_written()
    {
        using var inner = TwoOutputModel();
        var gated = new GatedModel(inner);
        using var batcher = new ScoringBatcher(gated, new BatcherSettings(4096, TimeSpan.Zero, 64), NullLogger.Instance, "test");
        var first = Task.Run(() => batcher.ScoreAsync(new float[Width], 1, new float[4], default).AsTask());
        Assert.True(gated.Entered.Wait(TimeSpan.FromSeconds(10)));

        using var cancel = new CancellationTokenSource();
        var output = Enumerable.Repeat(float.NaN, 40).ToArray();
        var cancelled = batcher.ScoreAsync(OrtBindingTests.RandomRows(Width, 10, 3), 10, output, cancel.Token).AsTask();
        var kept = new float[40];
        var other = batcher.ScoreAsync(OrtBindingTests.RandomRows(Width, 10, 4), 10, kept, default).AsTask();
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);

        gated.Gate.Set();
        await first;
        await other;
        Assert.All(output, v => Assert.True(float.IsNaN(v)));
        Assert.Equal(11, batcher.Counters.Rows); // the cancelled rows never ran
        Assert.Contains(kept, v => v != 0);
    }

    [Fact]
    public async Task A_full_queue_makes_callers_wait_until_their_deadline()
    {
        using var inner = TwoOutputModel();
        var gated = new GatedModel(inner);
        using var batcher = new ScoringBatcher(gated, new BatcherSettings(4096, TimeSpan.Zero, 2), NullLogger.Instance, "test");
        var a = Task.Run(() => batcher.ScoreAsync(new float[Width], 1, new float[4], default).AsTask());
        Assert.True(gated.Entered.Wait(TimeSpan.FromSeconds(10)));
        var b = batcher.ScoreAsync(new float[Width], 1, new float[4], default).AsTask();

        using var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        var started = DateTime.UtcNow;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => batcher.ScoreAsync(new float[Width], 1, new float[4], deadline.Token).AsTask());
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromMilliseconds(90), "the third caller should have waited for room");

        gated.Gate.Set();
        await Task.WhenAll(a, b);
        await batcher.ScoreAsync(new float[Width], 1, new float[4], default); // room again
    }

    [Fact]
    public async Task A_failing_model_fails_every_request_of_the_batch()
    {
        using var inner = TwoOutputModel();
        var gated = new GatedModel(inner) { Failure = new InvalidOperationException("boom") };
        gated.Gate.Set();
        using var batcher = new ScoringBatcher(gated, new BatcherSettings(4096, TimeSpan.Zero, 8), NullLogger.Instance, "test");
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.ScoreAsync(new float[Width], 1, new float[4], default).AsTask());
        Assert.Equal("boom", ex.Message);
        gated.Failure = null;
        await batcher.ScoreAsync(new float[Width], 1, new float[4], default); // it recovers
    }

    private sealed class CountingModel(IBatchModel inner, bool accelerated) : IBatchModel
    {
        public int Runs;
        public int InputWidth => inner.InputWidth;
        public int OutputWidth => inner.OutputWidth;
        public IReadOnlyList<int> OutputWidths => inner.OutputWidths;
        public bool IsAccelerated => accelerated;

        public void Run(ReadOnlySpan<float> input, int rows, Span<float> output)
        {
            Interlocked.Increment(ref Runs);
            inner.Run(input, rows, output);
        }
    }

    [Theory]
    [InlineData("off", false, false)]
    [InlineData("auto", false, false)]
    [InlineData("auto", true, true)]
    [InlineData("on", false, true)]
    public async Task Batching_mode_decides_whether_requests_are_coalesced(string mode, bool accelerated, bool batches)
    {
        using var model = TwoOutputModel();
        var counting = new CountingModel(model, accelerated);
        using var batcher = new ScoringBatcher(counting, new BatcherSettings(4096, TimeSpan.FromMilliseconds(2), 64, 1, mode), NullLogger.Instance, "test");
        Assert.Equal(batches, batcher.IsBatching);

        var requests = Enumerable.Range(0, 16).Select(i => OrtBindingTests.RandomRows(Width, 50, 500 + i)).ToList();
        var results = await Task.WhenAll(requests.Select(rows => Task.Run(async () =>
        {
            var output = new float[50 * 4];
            await batcher.ScoreAsync(rows, 50, output, CancellationToken.None);
            return output;
        })));

        for (var i = 0; i < requests.Count; i++)
        {
            var expected = Expected(model, requests[i], 50);
            for (var j = 0; j < expected.Length; j++) Assert.Equal(expected[j], results[i][j], 5);
        }
        // Inline: one run per request and the batch counters untouched; batching: rows went through batches.
        if (batches) Assert.True(batcher.Counters.Rows == 16 * 50);
        else Assert.Equal((16, 0L), (counting.Runs, batcher.Counters.Rows));
    }

    [Fact]
    public void An_unknown_batching_mode_is_refused()
    {
        using var model = TwoOutputModel();
        var ex = Assert.Throws<ArgumentException>(() => new ScoringBatcher(model, new BatcherSettings(16, TimeSpan.Zero, 4, 1, "sometimes"), NullLogger.Instance, "test"));
        Assert.Contains("sometimes", ex.Message, StringComparison.Ordinal);
    }
}
