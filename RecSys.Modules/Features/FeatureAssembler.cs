using System.Buffers;
using RecSys.Catalog;
using RecSys.Retrieval;

namespace RecSys.Features;

/// <summary>The device a request comes from.</summary>
public enum DeviceType : byte
{
    Unknown = 0,
    Mobile = 1,
    Desktop = 2,
    Tablet = 3,
}

/// <summary>Everything about the user and the request that feature assembly needs, fetched once per request.</summary>
public sealed record FeatureContext(
    UserProfile? User,
    UserOnlineState History,
    SocialContext Social,
    DeviceType Device,
    byte RegionCode,
    byte LanguageCode,
    DateTimeOffset Now);

/// <summary>The per-candidate inputs of feature assembly, parallel spans of equal length.</summary>
public readonly ref struct CandidateFeatureInputs(ReadOnlySpan<int> items, ReadOnlySpan<float> annScores, ReadOnlySpan<CandidateSource> sources, ReadOnlySpan<ItemStats> stats)
{
    public ReadOnlySpan<int> Items { get; } = items;
    public ReadOnlySpan<float> AnnScores { get; } = annScores;
    public ReadOnlySpan<CandidateSource> Sources { get; } = sources;
    public ReadOnlySpan<ItemStats> Stats { get; } = stats;
}

/// <summary>
/// Fills one float row per candidate, in the column order of a <see cref="FeatureSchema"/>, into a contiguous
/// row-major buffer. No allocation per candidate: per-request aggregates (category affinity) are computed once.
/// </summary>
public sealed class FeatureAssembler
{
    private readonly FeatureId[] _ids;
    private readonly float _hotThreshold;

    public FeatureAssembler(FeatureSchema schema, double hotItemTrendScore)
    {
        ArgumentNullException.ThrowIfNull(schema);
        Schema = schema;
        _ids = schema.Ids;
        _hotThreshold = (float)hotItemTrendScore;
    }

    public FeatureSchema Schema { get; }

    /// <summary>Writes <c>inputs.Items.Length x Schema.Count</c> floats into <paramref name="destination"/>.</summary>
    public void Assemble(FeatureContext context, ICatalog catalog, in CandidateFeatureInputs inputs, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(catalog);
        var n = inputs.Items.Length;
        var width = _ids.Length;
        if (inputs.AnnScores.Length != n || inputs.Sources.Length != n || inputs.Stats.Length != n)
        {
            throw new ArgumentException("Candidate feature inputs must all have one entry per candidate.", nameof(inputs));
        }
        if (destination.Length < n * width)
        {
            throw new ArgumentException($"Destination holds {destination.Length} floats, {n} rows of {width} need {n * width}.", nameof(destination));
        }

        var columns = catalog.Columns;
        var categoryCount = Math.Max(1, catalog.CategoryCount);
        var affinityBuffer = ArrayPool<float>.Shared.Rent(categoryCount);
        try
        {
            var affinity = affinityBuffer.AsSpan(0, categoryCount);
            CategoryAffinity(columns, context.History.RecentItems, affinity);

            var nowUnix = context.Now.ToUnixTimeSeconds();
            var hourAngle = 2 * Math.PI * (context.Now.Hour + (context.Now.Minute / 60.0)) / 24.0;
            var request = new RequestValues(
                DwellMinutes: (context.User?.AvgDwellSeconds ?? 0f) / 60f,
                Activity: MathF.Log(1 + context.History.RecentItems.Length) / 5f,
                Age: (context.User?.Age ?? 0) / 100f,
                Device: context.Device,
                HourSin: (float)Math.Sin(hourAngle),
                HourCos: (float)Math.Cos(hourAngle));

            for (var row = 0; row < n; row++)
            {
                var item = inputs.Items[row];
                var target = destination.Slice(row * width, width);
                for (var c = 0; c < width; c++)
                {
                    target[c] = Value(_ids[c], item, row, in inputs, columns, categoryCount, affinity, context, nowUnix, in request);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(affinityBuffer);
        }
    }

    private readonly record struct RequestValues(float DwellMinutes, float Activity, float Age, DeviceType Device, float HourSin, float HourCos);

    private float Value(FeatureId id, int item, int row, in CandidateFeatureInputs inputs, ItemColumns columns, int categoryCount,
        ReadOnlySpan<float> affinity, FeatureContext context, long nowUnix, in RequestValues request)
    {
        var stats = inputs.Stats[row];
        return id switch
        {
            FeatureId.AnnSimilarity => inputs.AnnScores[row],
            FeatureId.ItemCategory => columns.CategoryIds[item] / (float)categoryCount,
            FeatureId.UserCategoryAffinity => (uint)columns.CategoryIds[item] < (uint)affinity.Length ? affinity[columns.CategoryIds[item]] : 0f,
            FeatureId.ItemFreshnessHours => MathF.Log(1 + (Math.Max(0, nowUnix - columns.CreatedAtUnixSeconds[item]) / 3600f)),
            FeatureId.ItemEngagementScore => columns.Engagement[item],
            FeatureId.ItemCtr => (stats.Clicks + 1f) / (stats.Impressions + 20f),
            FeatureId.ItemLikeRate => (stats.Likes + 1f) / (stats.Clicks + 10f),
            FeatureId.ItemPopularity => MathF.Log(1 + stats.Clicks + stats.Likes + stats.Shares) / 10f,
            FeatureId.IsHotItem => stats.TrendScore >= _hotThreshold ? 1f : 0f,
            FeatureId.ItemNsfw => columns.Nsfw[item] ? 1f : 0f,
            FeatureId.UserAvgDwellTime => request.DwellMinutes,
            FeatureId.UserActivity => request.Activity,
            FeatureId.UserAge => request.Age,
            FeatureId.DeviceMobile => request.Device == DeviceType.Mobile ? 1f : 0f,
            FeatureId.DeviceDesktop => request.Device == DeviceType.Desktop ? 1f : 0f,
            FeatureId.DeviceTablet => request.Device == DeviceType.Tablet ? 1f : 0f,
            FeatureId.TimeOfDaySin => request.HourSin,
            FeatureId.TimeOfDayCos => request.HourCos,
            FeatureId.LanguageMatch => context.LanguageCode != Locales.Unknown && columns.LanguageCodes[item] == context.LanguageCode ? 1f : 0f,
            FeatureId.RegionMatch => context.RegionCode != Locales.Unknown && columns.RegionCodes[item] == context.RegionCode ? 1f : 0f,
            FeatureId.FriendPost => context.Social.IsFriend(columns.AuthorIndices[item]) ? 1f : 0f,
            FeatureId.FollowsAuthor => context.Social.Follows(columns.AuthorIndices[item]) ? 1f : 0f,
            FeatureId.SameGroup => context.Social.SharesGroupWith(columns.AuthorIndices[item]) ? 1f : 0f,
            FeatureId.SourceAnn => Has(inputs.Sources[row], CandidateSource.Ann),
            FeatureId.SourceItemToItem => Has(inputs.Sources[row], CandidateSource.ItemToItem),
            FeatureId.SourceSocial => Has(inputs.Sources[row], CandidateSource.Social),
            FeatureId.SourceTrending => Has(inputs.Sources[row], CandidateSource.Trending),
            FeatureId.SourceFresh => Has(inputs.Sources[row], CandidateSource.Fresh),
            FeatureId.SourcePopular => Has(inputs.Sources[row], CandidateSource.Popular),
            _ => throw new InvalidOperationException($"Feature {id} has no computation."),
        };
    }

    private static float Has(CandidateSource sources, CandidateSource flag) => (sources & flag) != 0 ? 1f : 0f;

    private static void CategoryAffinity(ItemColumns columns, ReadOnlySpan<int> recentItems, Span<float> affinity)
    {
        affinity.Clear();
        var counted = 0;
        foreach (var item in recentItems)
        {
            if ((uint)item >= (uint)columns.Count) continue;
            var category = columns.CategoryIds[item];
            if ((uint)category >= (uint)affinity.Length) continue;
            affinity[category] += 1f;
            counted++;
        }
        if (counted == 0) return;
        for (var c = 0; c < affinity.Length; c++) affinity[c] /= counted;
    }
}
