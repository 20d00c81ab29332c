using System.Diagnostics;
using RecSys.Ranking.Onnx;

namespace RecSys.Tests.Ranking;

/// <summary>Runs alone: it reads the process's resident memory, which parallel tests would disturb.</summary>
[CollectionDefinition(nameof(OnnxLeakTests), DisableParallelization = true)]
public sealed class SerialCollection;

[Collection(nameof(OnnxLeakTests))]
public class OnnxLeakTests
{
    /// <summary>
    /// Thousands of runs, sessions and failed runs leave the process's resident memory flat (native memory included).
    /// Checked to fail: with the per-run OrtValues not released, every window grows by about 9 MiB.
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
        // A leak grows in every window; other tests' transient native use (when not run alone) grows some windows only.
        var growth = new List<long>();
        var before = NativeResident();
        for (var window = 0; window < 3; window++)
        {
            Work(10_000);
            var after = NativeResident();
            growth.Add(after - before);
            before = after;
        }
        Assert.True(growth.Min() < 3L << 20,
            $"resident memory outside the managed heap grew in every window of 10,000 runs and 100 sessions: {string.Join(", ", growth.Select(g => $"{g / 1024} KiB"))}");
    }

    /// <summary>Resident memory less the managed heap's committed memory: what native code (ORT) holds.</summary>
    private static long NativeResident()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        return self.WorkingSet64 - GC.GetGCMemoryInfo().TotalCommittedBytes;
    }
}
