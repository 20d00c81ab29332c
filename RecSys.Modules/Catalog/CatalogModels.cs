namespace RecSys.Catalog;

/// <summary>A recommendable item with its display fields. <see cref="Index"/> is the dense internal id used on hot paths.</summary>
public sealed record Item(
    int Index,
    string Id,
    string Title,
    int CategoryId,
    string Category,
    int AuthorIndex,
    DateTimeOffset CreatedAt,
    float EngagementScore,
    bool IsNsfw,
    string Region,
    string Language,
    string ThumbnailUrl);

/// <summary>A user's profile. Authors are users too: <see cref="Item.AuthorIndex"/> is a user index.</summary>
public sealed record UserProfile(
    int Index,
    string Id,
    int Age,
    string Region,
    string Language,
    bool AllowNsfw,
    float AvgDwellSeconds);

/// <summary>
/// The columns that filters and feature assembly read for every candidate, as flat arrays indexed by item index,
/// so the hot path reads contiguous memory instead of chasing <see cref="Item"/> references.
/// </summary>
public sealed class ItemColumns
{
    public ItemColumns(int count)
    {
        CategoryIds = new int[count];
        AuthorIndices = new int[count];
        CreatedAtUnixSeconds = new long[count];
        Engagement = new float[count];
        Nsfw = new bool[count];
        RegionCodes = new byte[count];
        LanguageCodes = new byte[count];
    }

    public int[] CategoryIds { get; }
    public int[] AuthorIndices { get; }
    public long[] CreatedAtUnixSeconds { get; }
    public float[] Engagement { get; }
    public bool[] Nsfw { get; }
    public byte[] RegionCodes { get; }
    public byte[] LanguageCodes { get; }
    public int Count => CategoryIds.Length;
}

/// <summary>Small dictionaries that turn region and language codes into bytes for the item columns.</summary>
public static class Locales
{
    /// <summary>Code for a region or language the catalog does not know.</summary>
    public const byte Unknown = byte.MaxValue;

    public static IReadOnlyList<string> Regions { get; } = ["us", "gb", "de", "fr", "br", "in", "jp", "es"];
    public static IReadOnlyList<string> Languages { get; } = ["en", "de", "fr", "pt", "hi", "ja", "es"];

    /// <summary>
    /// Each region's clock as an offset from UTC in minutes, in the order of <see cref="Regions"/>: standard time of the
    /// zone most of its people live in (us: Eastern). One zone per region and no daylight saving: an hour off for part
    /// of the year, and the US's other zones 1 to 3 hours off; enough for the "what is engaged at this time of day"
    /// buckets, which are smoothed over neighbouring hours anyway.
    /// </summary>
    private static readonly short[] RegionUtcOffsetMinutes = [-300, 0, 60, 60, -180, 330, 540, 60];

    public static byte RegionCode(string? region) => Find(Regions, region);

    /// <summary>The region's offset from UTC in minutes (see the table above); 0 for an unknown region.</summary>
    public static int UtcOffsetMinutes(byte regionCode) => regionCode < RegionUtcOffsetMinutes.Length ? RegionUtcOffsetMinutes[regionCode] : 0;

    /// <summary>The local hour of day (0 to 23) in a region at a time; UTC for an unknown region.</summary>
    public static int LocalHour(long unixSeconds, byte regionCode)
    {
        var local = unixSeconds + (UtcOffsetMinutes(regionCode) * 60L);
        return (int)((((local % 86_400) + 86_400) % 86_400) / 3600);
    }
    public static byte LanguageCode(string? language) => Find(Languages, language);

    private static byte Find(IReadOnlyList<string> list, string? value)
    {
        if (value is null) return Unknown;
        for (var i = 0; i < list.Count; i++)
        {
            if (string.Equals(list[i], value, StringComparison.OrdinalIgnoreCase)) return (byte)i;
        }
        return Unknown;
    }
}
