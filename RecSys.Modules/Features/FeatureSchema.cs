namespace RecSys.Features;

/// <summary>Every feature the assembler knows how to compute. The numbers are internal; schemas refer to names.</summary>
internal enum FeatureId
{
    AnnSimilarity,
    ItemCategory,
    UserCategoryAffinity,
    ItemFreshnessHours,
    ItemEngagementScore,
    ItemCtr,
    ItemLikeRate,
    ItemPopularity,
    IsHotItem,
    ItemNsfw,
    UserAvgDwellTime,
    UserActivity,
    UserAge,
    DeviceMobile,
    DeviceDesktop,
    DeviceTablet,
    TimeOfDaySin,
    TimeOfDayCos,
    LanguageMatch,
    RegionMatch,
    FriendPost,
    FollowsAuthor,
    SameGroup,
    SourceAnn,
    SourceItemToItem,
    SourceSocial,
    SourceTrending,
    SourceFresh,
    SourcePopular,
}

/// <summary>A named feature and how its value is made, as written into the model manifest.</summary>
public sealed record FeatureDefinition(string Name, string Description);

/// <summary>
/// The ordered list of features a model consumes. The trainer writes it into the model manifest and the server reads
/// it back; the same <see cref="FeatureAssembler"/> fills rows in both, so training and serving cannot drift apart.
/// </summary>
public sealed class FeatureSchema
{
    private static readonly FeatureDefinition[] Known =
    [
        new("ann_similarity", "inner product of the user's query vector and the item vector"),
        new("item_category", "category id / number of categories"),
        new("user_category_affinity", "share of the user's recent items in the item's category"),
        new("item_freshness_hours", "log1p(hours since the item was created)"),
        new("item_engagement_score", "catalog engagement score in [0, 1]"),
        new("item_ctr", "(clicks + 1) / (impressions + 20)"),
        new("item_like_rate", "(likes + 1) / (clicks + 10)"),
        new("item_popularity", "log1p(clicks + likes + shares) / 10"),
        new("is_hot_item", "1 when the decayed positive-event count reaches Features:HotItemTrendScore"),
        new("item_nsfw", "1 for NSFW items"),
        new("user_avg_dwell_time", "user's average dwell in minutes"),
        new("user_activity", "log1p(length of the user's recent history) / 5"),
        new("user_age", "age / 100 (0 when unknown)"),
        new("device_mobile", "1 when the request comes from a phone"),
        new("device_desktop", "1 when the request comes from a desktop"),
        new("device_tablet", "1 when the request comes from a tablet"),
        new("time_of_day_sin", "sin(2 pi hour / 24) of the request time"),
        new("time_of_day_cos", "cos(2 pi hour / 24) of the request time"),
        new("language_match", "1 when item and request language agree"),
        new("region_match", "1 when item and request region agree"),
        new("friend_post", "1 when the author is the user's friend"),
        new("follows_author", "1 when the user follows the author"),
        new("same_group", "1 when the author shares a group with the user"),
        new("source_ann", "retrieved by the query-vector source"),
        new("source_item2item", "retrieved by the item-to-item source"),
        new("source_social", "retrieved by the social source"),
        new("source_trending", "retrieved by the trending source"),
        new("source_fresh", "retrieved by the fresh source"),
        new("source_popular", "retrieved by the popular source"),
    ];

    private FeatureSchema(FeatureDefinition[] features, FeatureId[] ids)
    {
        Features = features;
        Ids = ids;
    }

    /// <summary>Every feature the assembler can compute, in its canonical order.</summary>
    public static FeatureSchema Default { get; } = new(Known, Enumerable.Range(0, Known.Length).Select(i => (FeatureId)i).ToArray());

    public IReadOnlyList<FeatureDefinition> Features { get; }

    public int Count => Features.Count;

    internal FeatureId[] Ids { get; }

    public IEnumerable<string> Names => Features.Select(f => f.Name);

    public int IndexOf(string name)
    {
        for (var i = 0; i < Features.Count; i++)
        {
            if (Features[i].Name == name) return i;
        }
        return -1;
    }

    /// <summary>A schema of the named features in the given order; unknown or repeated names are refused with their names.</summary>
    public static FeatureSchema FromNames(IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var list = names.ToList();
        var unknown = list.Where(n => Array.FindIndex(Known, k => k.Name == n) < 0).ToList();
        if (unknown.Count > 0) throw new ArgumentException($"Unknown feature(s): {string.Join(", ", unknown)}. Known: {string.Join(", ", Known.Select(k => k.Name))}.", nameof(names));
        var repeated = list.GroupBy(n => n).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (repeated.Count > 0) throw new ArgumentException($"Repeated feature(s): {string.Join(", ", repeated)}.", nameof(names));
        if (list.Count == 0) throw new ArgumentException("A feature schema needs at least one feature.", nameof(names));
        var ids = list.Select(n => (FeatureId)Array.FindIndex(Known, k => k.Name == n)).ToArray();
        return new FeatureSchema(ids.Select(i => Known[(int)i]).ToArray(), ids);
    }
}
