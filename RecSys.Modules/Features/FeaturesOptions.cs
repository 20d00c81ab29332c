using System.ComponentModel.DataAnnotations;

namespace RecSys.Features;

/// <summary>Options of the <c>Features</c> section.</summary>
public sealed class FeaturesOptions
{
    public const string SectionName = "Features";

    /// <summary>How many recent positive items the store keeps per user.</summary>
    [Range(1, 1000)]
    public int RecentHistoryLength { get; set; } = 50;

    /// <summary>How many of those recent items are averaged into the user's query vector.</summary>
    [Range(1, 1000)]
    public int QueryVectorHistory { get; set; } = 20;

    /// <summary>Half-life of the trend score, in hours.</summary>
    [Range(0.1, 24 * 365)]
    public double TrendHalfLifeHours { get; set; } = 24;

    /// <summary>How long a served item stays in the user's seen set, in minutes.</summary>
    [Range(1, 60 * 24 * 30)]
    public int SeenWindowMinutes { get; set; } = 60;

    /// <summary>How often the trending lists are recomputed, in seconds (memory store).</summary>
    [Range(0.1, 3600)]
    public double TrendingRefreshSeconds { get; set; } = 5;

    /// <summary>An item whose decayed positive-event count reaches this is a hot item.</summary>
    [Range(0.0, 1e9)]
    public double HotItemTrendScore { get; set; } = 5;
}
