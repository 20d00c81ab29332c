using System.Diagnostics;
using RecSys.Ranking.Onnx;

namespace RecSys.Tests.Ranking;

public class OnnxLeakTests
{
    /// <summary>
    /// Thousands of runs, sessions and failed runs leave the process's resident memory flat (native memory included).
    /// Checked to fail: with the per-run OrtValues not released, the same work grows it by about 15 MiB.
    /// </summary>
    [Fact]
    public void Many_runs_and_sessions_keep_native_memory_stable()
    {
        var bytes = OnnxWriter.Write(RankerNetwork.Random(32, 1, [64], [("p", HeadActivation.Sigmoid), ("q", HeadActivation.Identity)], seed: 1));
        var rows = OrtBindingTests.RandomRows(32, 64, 2);
        var output = new float[128];
        using var model = OnnxModel.Load(OrtBindingTests.Runtime, bytes, OrtBindingTests.Cpu);

        void Work(int runs)
        {
            for (var i = 0; i < runs; i++)
            {
                model.Run(rows, 64, 32, output);
                if (i % 100 == 0)
                {
                    using var extra = OnnxModel.Load(OrtBindingTests.Runtime, bytes, OrtBindingTests.Cpu); // sessions, type infos, names
                    try
                    {
                        extra.Run(rows, 2, 31, output); // a failing run: its OrtStatus must be released
                    }
                    catch (RecSys.Ranking.OnnxRuntimeException)
                    {
                    }
                }
            }
        }

        Work(3_000); // warm-up: arenas and thread pools reach their size
        var before = Rss();
        Work(20_000);
        var grown = Rss() - before;
        Assert.True(grown < 8L << 20, $"resident memory grew by {grown >> 20} MiB over 20,000 runs and 200 sessions");
    }

    private static long Rss()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        return self.WorkingSet64;
    }
}
