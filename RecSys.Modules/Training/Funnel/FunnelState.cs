using System.Text.Json;
using RecSys.Catalog;
using RecSys.Features;
using RecSys.Training.PointInTime;

namespace RecSys.Training.Funnel;

/// <summary>
/// What the funnel needs besides the models to recommend offline, saved in a version folder
/// (<see cref="Trainer.FunnelStateFile"/>): the item columns of the catalog, each item's counters as of the end of the
/// log, each user's recent items (most recent first) and interacted items, their profile fields, the social edges and
/// the popular list; the replay of the whole log that the final rankers' rows ended with.
/// </summary>
internal sealed record FunnelState(
    long NowUnixSeconds,
    int CategoryCount,
    int[] CategoryIds,
    int[] AuthorIndices,
    long[] CreatedAtUnixSeconds,
    float[] Engagement,
    bool[] Nsfw,
    byte[] RegionCodes,
    byte[] LanguageCodes,
    ItemStats[] Stats,
    int[][] Recent,
    int[][] Interacted,
    UserMetadata[] Users,
    int[] Popular,
    SocialEdge[] Social)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static FunnelState Capture(InteractionDataset dataset, RankingDataOptions features, int popularLength)
    {
        var state = new ReplayState(dataset.UserCount, dataset.ItemCount, features.RecentHistoryLength, features.TrendHalfLifeHours);
        foreach (var e in dataset.Events) state.Apply(e);
        var now = dataset.Events.Length == 0 ? 0 : dataset.Events[^1].UnixSeconds;
        var catalog = new DatasetCatalog(dataset);
        var c = catalog.Columns;
        var stats = new ItemStats[dataset.ItemCount];
        for (var i = 0; i < stats.Length; i++) stats[i] = state.Stats(i, now);
        var recent = new int[dataset.UserCount][];
        var interacted = new int[dataset.UserCount][];
        for (var u = 0; u < recent.Length; u++)
        {
            var s = state.UserState(u);
            recent[u] = s.RecentItems;
            interacted[u] = [.. s.InteractedItems.Order()];
        }
        return new FunnelState(now, catalog.CategoryCount, c.CategoryIds, c.AuthorIndices, c.CreatedAtUnixSeconds, c.Engagement, c.Nsfw, c.RegionCodes, c.LanguageCodes,
            stats, recent, interacted, [.. dataset.Users], state.MostPopular(popularLength), [.. dataset.Social]);
    }

    public async Task WriteAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = File.Create(path);
        await JsonSerializer.SerializeAsync(stream, this, Json, cancellationToken);
    }

    /// <summary>Reads and checks the file against the version's item and user counts; a corrupt file is refused with its path.</summary>
    public static FunnelState Read(string path, int items, int users)
    {
        FunnelState? state;
        try
        {
            using var stream = File.OpenRead(path);
            state = JsonSerializer.Deserialize<FunnelState>(stream, Json);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: not a funnel state file ({ex.Message}).", ex);
        }
        if (state is null) throw new InvalidDataException($"{path}: empty.");
        int[] itemLengths = [state.CategoryIds.Length, state.AuthorIndices.Length, state.CreatedAtUnixSeconds.Length, state.Engagement.Length, state.Nsfw.Length,
            state.RegionCodes.Length, state.LanguageCodes.Length, state.Stats.Length];
        if (itemLengths.Any(n => n != items)) throw new InvalidDataException($"{path}: item columns of lengths {string.Join(", ", itemLengths)} for {items} items.");
        if (state.Recent.Length != users || state.Interacted.Length != users || state.Users.Length != users)
        {
            throw new InvalidDataException($"{path}: {state.Recent.Length} histories, {state.Interacted.Length} interacted sets, {state.Users.Length} profiles for {users} users.");
        }
        foreach (var list in state.Recent.Concat(state.Interacted).Append(state.Popular))
        {
            if (list is null || list.Any(i => (uint)i >= (uint)items)) throw new InvalidDataException($"{path}: an item index outside 0..{items - 1}.");
        }
        return state;
    }

    public DatasetCatalog Catalog(string version)
    {
        var columns = new ItemColumns(CategoryIds.Length);
        CategoryIds.CopyTo(columns.CategoryIds, 0);
        AuthorIndices.CopyTo(columns.AuthorIndices, 0);
        CreatedAtUnixSeconds.CopyTo(columns.CreatedAtUnixSeconds, 0);
        Engagement.CopyTo(columns.Engagement, 0);
        Nsfw.CopyTo(columns.Nsfw, 0);
        RegionCodes.CopyTo(columns.RegionCodes, 0);
        LanguageCodes.CopyTo(columns.LanguageCodes, 0);
        return new DatasetCatalog(columns, CategoryCount, version);
    }
}
