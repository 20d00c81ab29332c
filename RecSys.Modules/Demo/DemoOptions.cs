using System.ComponentModel.DataAnnotations;

namespace RecSys.Demo;

/// <summary>Options of the <c>Demo</c> section: the generated world the service runs on when no real stores are configured.</summary>
public sealed class DemoOptions
{
    public const string SectionName = "Demo";

    /// <summary>Generate the demo world at start-up and load it into the embedded stores.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Seed of every random choice: the same seed and sizes give the same world.</summary>
    public int Seed { get; set; } = 42;

    [Range(10, 10_000_000)]
    public int Items { get; set; } = 100_000;

    [Range(10, 10_000_000)]
    public int Users { get; set; } = 20_000;

    /// <summary>Average feed sessions per user in the history; each shows 10 items (about 16 events per session).</summary>
    [Range(0, 1000)]
    public double SessionsPerUser { get; set; } = 6;

    [Range(2, 1024)]
    public int Dimensions { get; set; } = 32;

    [Range(2, 1000)]
    public int Categories { get; set; } = 20;

    /// <summary>How many days of history the interaction log covers, ending at <see cref="Anchor"/>.</summary>
    [Range(1, 3650)]
    public int HistoryDays { get; set; } = 30;

    /// <summary>The world's "now". Unset: the start of the current UTC day, so one day's starts all agree.</summary>
    public DateTimeOffset? Anchor { get; set; }
}
