using System.ComponentModel.DataAnnotations;

namespace RecSys.Pipeline;

/// <summary>Options of the <c>Pipeline</c> section.</summary>
public sealed class PipelineOptions
{
    public const string SectionName = "Pipeline";

    /// <summary>
    /// The request's deadline. A stage still running when it passes is abandoned and its fallback used
    /// (see <see cref="Degradations"/>). The design's budget for the whole funnel is 57 ms.
    /// </summary>
    [Range(1, 60_000)]
    public int DeadlineMilliseconds { get; set; } = 250;
}
