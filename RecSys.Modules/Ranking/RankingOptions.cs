using System.ComponentModel.DataAnnotations;

namespace RecSys.Ranking;

/// <summary>The <c>Ranking</c> section: where ONNX Runtime and the models are, how sessions run, how rows are batched.</summary>
public sealed class RankingOptions
{
    public const string SectionName = "Ranking";

    /// <summary>
    /// Path of <c>libonnxruntime.so.1</c> (or a folder holding it). Empty: beside the binaries, else the set-up scripts'
    /// <c>.native/onnxruntime/1.30.0/</c>. A CUDA build of the library is dropped in the same way.
    /// </summary>
    public string? OnnxRuntimePath { get; set; }

    /// <summary><c>cpu</c>, <c>cuda</c> (fail when CUDA cannot be enabled) or <c>auto</c> (CUDA when it can be enabled, else CPU).</summary>
    [Required, RegularExpression("^(cpu|cuda|auto)$", ErrorMessage = "Ranking:ExecutionProvider must be cpu, cuda or auto.")]
    public string ExecutionProvider { get; set; } = "auto";

    [Range(0, 64)]
    public int CudaDeviceId { get; set; }

    /// <summary>Threads ONNX Runtime may use inside one inference (0: its default, one per core).</summary>
    [Range(0, 256)]
    public int IntraOpThreads { get; set; } = 1;

    /// <summary><c>disable</c>, <c>basic</c>, <c>extended</c> or <c>all</c>.</summary>
    [Required, RegularExpression("^(disable|basic|extended|all)$", ErrorMessage = "Ranking:GraphOptimizationLevel must be disable, basic, extended or all.")]
    public string GraphOptimizationLevel { get; set; } = "all";

    /// <summary>Folder with <c>current</c> (naming a version folder holding <c>manifest.json</c>) or a <c>manifest.json</c>.</summary>
    [Required]
    public string ModelsDirectory { get; set; } = "models";

    /// <summary>Candidates the pre-ranker keeps for the main ranker.</summary>
    [Range(1, 100_000)]
    public int PreRankKeep { get; set; } = 200;

    /// <summary>
    /// Coalescing of concurrent requests' rows: <c>auto</c> (the default: only when the models run on CUDA), <c>on</c>
    /// or <c>off</c> (each request scores its own rows inline, which is faster on a CPU).
    /// </summary>
    [Required, RegularExpression("^(auto|on|off)$", ErrorMessage = "Ranking:Batching must be 'auto', 'on' or 'off'.")]
    public string Batching { get; set; } = "auto";

    /// <summary>A batch is run as soon as it holds this many rows.</summary>
    [Range(1, 1_000_000)]
    public int MaxBatchRows { get; set; } = 4096;

    /// <summary>How long the first request of a batch waits for others to join it.</summary>
    [Range(0, 100_000)]
    public int MaxDelayMicroseconds { get; set; } = 500;

    /// <summary>Batches of one model that may run at once (0: one per core). With one intra-op thread each, this is how a CPU uses all its cores; on a GPU, 1.</summary>
    [Range(0, 256)]
    public int MaxConcurrentBatches { get; set; }

    /// <summary>Requests that may wait for a batch; further callers wait for room (back-pressure) until their deadline.</summary>
    [Range(1, 1_000_000)]
    public int QueueCapacity { get; set; } = 1024;

    /// <summary>Reload the models when <c>current</c> or <c>manifest.json</c> changes (off: reload through <c>POST /admin/models/reload</c>).</summary>
    public bool WatchModels { get; set; }
}
