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

    /// <summary>How long a stored user query vector lives after it was written, in minutes (Redis: the key's TTL).</summary>
    [Range(1, 60 * 24 * 30)]
    public int QueryVectorTtlMinutes { get; set; } = 1440;

    /// <summary>Width of one time bucket of the windowed item counters, in minutes (must divide a day).</summary>
    [Range(1, 1440)]
    public int CounterBucketMinutes { get; set; } = 60;

    /// <summary>How long windowed item counters are kept, in hours (Redis: each bucket expires this long after it closes).</summary>
    [Range(1, 24 * 90)]
    public int CounterRetentionHours { get; set; } = 48;

    /// <summary>
    /// When the trend decay origin is this many half-lives old, the writer moves it to now and scales every trend score
    /// down by the same factor (forward-decay rescale), long before the doubles overflow (a term 2^((t - origin)/halfLife)
    /// passes double.MaxValue after 1024 half-lives: 2.8 years at 24 h). 30 at 24 h: once a month.
    /// </summary>
    [Range(1, 900)]
    public double TrendRescaleHalfLives { get; set; } = 30;
}
