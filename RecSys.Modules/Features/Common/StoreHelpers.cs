using RecSys.Catalog;

namespace RecSys.Features.Common;

/// <summary>The region of an event's user, as both stores key their per-region trend.</summary>
internal static class StoreLocales
{
    /// <summary>The user's region code, or <see cref="Locales.Unknown"/> for a user the catalog does not hold.</summary>
    public static byte UserRegion(ICatalog catalog, int userIndex)
    {
        if (userIndex < 0) return Locales.Unknown;
        try
        {
            return Locales.RegionCode(catalog.GetUser(userIndex).Region);
        }
        catch (Exception ex) when (ex is IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            // ICatalog has no user count; the dense online store also holds users a newer catalog knows.
            return Locales.Unknown;
        }
    }
}

/// <summary>The time buckets of the windowed item counters.</summary>
internal static class WindowBuckets
{
    /// <summary>The bucket that holds <paramref name="unixSeconds"/>: floor(t / width).</summary>
    public static long Of(FeaturesOptions options, long unixSeconds)
    {
        var width = options.CounterBucketMinutes * 60L;
        return (long)Math.Floor(unixSeconds / (double)width);
    }

    /// <summary>The oldest bucket still within the retention at <paramref name="now"/>.</summary>
    public static long Oldest(FeaturesOptions options, long now) => Of(options, now - (options.CounterRetentionHours * 3600L));

    /// <summary>First and last bucket overlapping (now - window, now].</summary>
    public static (long First, long Last) Range(FeaturesOptions options, long now, TimeSpan window)
    {
        if (window <= TimeSpan.Zero || window > TimeSpan.FromHours(options.CounterRetentionHours))
        {
            throw new ArgumentOutOfRangeException(nameof(window), window, $"The window must be positive and at most Features:CounterRetentionHours ({options.CounterRetentionHours} h).");
        }
        return (Of(options, now - (long)window.TotalSeconds + 1), Of(options, now));
    }

    /// <summary>Seconds from <paramref name="now"/> until bucket <paramref name="bucket"/> leaves the retention (its key's TTL).</summary>
    public static long SecondsToLive(FeaturesOptions options, long bucket, long now) =>
        ((bucket + 1) * options.CounterBucketMinutes * 60L) + (options.CounterRetentionHours * 3600L) - now;
}
