using RecSys.Events;

namespace RecSys.Training;

/// <summary>Content fields of an item, as far as the source knows them (null: unknown). Feed the cold-start item tower.</summary>
public sealed record ItemMetadata(
    string? Title,
    string? Category,
    string? Author,
    string? Language,
    string? Region,
    long? CreatedAtUnixSeconds,
    IReadOnlyList<string> Tags)
{
    public static ItemMetadata Unknown { get; } = new(null, null, null, null, null, null, []);

    /// <summary>The catalog's engagement score in [0, 1] when the source has one (a ranking feature).</summary>
    public float? Engagement { get; init; }

    public bool Nsfw { get; init; }
}

/// <summary>What the source knows about a user (null: unknown).</summary>
public sealed record UserMetadata(int? Age, string? Region, string? Language)
{
    public static UserMetadata Unknown { get; } = new(null, null, null);

    /// <summary>The user's average dwell in seconds when the source has it (a ranking feature).</summary>
    public float? AvgDwellSeconds { get; init; }
}

/// <summary>
/// Events over dense user and item indices, ordered by time (ties keep the source's order), with the original string
/// ids kept so that every artifact and every recommendation can be written back in the source's own ids.
/// Items and users listed in metadata files but without events are part of the dataset (cold-start items).
/// </summary>
public sealed class InteractionDataset
{
    private readonly Dictionary<string, int> _userIndex;
    private readonly Dictionary<string, int> _itemIndex;

    public InteractionDataset(string name, IReadOnlyList<string> userIds, IReadOnlyList<string> itemIds, Interaction[] events,
        IReadOnlyList<ItemMetadata>? items = null, IReadOnlyList<UserMetadata>? users = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(userIds);
        ArgumentNullException.ThrowIfNull(itemIds);
        ArgumentNullException.ThrowIfNull(events);
        if (items is not null && items.Count != itemIds.Count) throw new ArgumentException($"{items.Count} item metadata rows for {itemIds.Count} items.", nameof(items));
        if (users is not null && users.Count != userIds.Count) throw new ArgumentException($"{users.Count} user metadata rows for {userIds.Count} users.", nameof(users));
        _userIndex = Index(userIds, "user");
        _itemIndex = Index(itemIds, "item");
        for (var k = 0; k < events.Length; k++)
        {
            var e = events[k];
            if ((uint)e.UserIndex >= (uint)userIds.Count || (uint)e.ItemIndex >= (uint)itemIds.Count)
            {
                throw new ArgumentException($"Event {k} refers to user {e.UserIndex} / item {e.ItemIndex} outside {userIds.Count} users / {itemIds.Count} items.", nameof(events));
            }
            if (k > 0 && e.UnixSeconds < events[k - 1].UnixSeconds) throw new ArgumentException($"Events must be ordered by time; event {k} is earlier than event {k - 1}.", nameof(events));
        }
        Name = name;
        UserIds = userIds;
        ItemIds = itemIds;
        Events = events;
        Items = items ?? Enumerable.Repeat(ItemMetadata.Unknown, itemIds.Count).ToArray();
        Users = users ?? Enumerable.Repeat(UserMetadata.Unknown, userIds.Count).ToArray();
    }

    /// <summary>Where the data came from (a path, or the demo world's version).</summary>
    public string Name { get; }

    public IReadOnlyList<string> UserIds { get; }
    public IReadOnlyList<string> ItemIds { get; }

    /// <summary>Every event, ordered by time.</summary>
    public Interaction[] Events { get; }

    public IReadOnlyList<ItemMetadata> Items { get; }
    public IReadOnlyList<UserMetadata> Users { get; }

    public int UserCount => UserIds.Count;
    public int ItemCount => ItemIds.Count;

    /// <summary>True when metadata gives at least one content field for some item.</summary>
    public bool HasItemContent => Items.Any(i => i.Category is not null || i.Author is not null || i.Tags.Count > 0);

    /// <summary>The time range of the events, or null for an empty dataset.</summary>
    public (DateTimeOffset From, DateTimeOffset To)? Window => Events.Length == 0
        ? null
        : (DateTimeOffset.FromUnixTimeSeconds(Events[0].UnixSeconds), DateTimeOffset.FromUnixTimeSeconds(Events[^1].UnixSeconds));

    /// <summary>Social edges over user indices (friends, follows, groups, blocks) when the source has them; ranking features use them.</summary>
    public IReadOnlyList<RecSys.Catalog.SocialEdge> Social { get; init; } = [];

    public bool TryGetUserIndex(string id, out int index) => _userIndex.TryGetValue(id, out index);

    public bool TryGetItemIndex(string id, out int index) => _itemIndex.TryGetValue(id, out index);

    private static Dictionary<string, int> Index(IReadOnlyList<string> ids, string what)
    {
        var index = new Dictionary<string, int>(ids.Count, StringComparer.Ordinal);
        for (var i = 0; i < ids.Count; i++)
        {
            if (!index.TryAdd(ids[i], i)) throw new ArgumentException($"The {what} id '{ids[i]}' appears twice.");
        }
        return index;
    }
}

/// <summary>A malformed input file: names the file and the 1-based line so the row can be found and fixed.</summary>
public sealed class DatasetFormatException(string file, int line, string problem)
    : FormatException($"{file}:{line}: {problem}")
{
    public string File { get; } = file;

    /// <summary>1-based line number (the header is line 1).</summary>
    public int Line { get; } = line;

    public string Problem { get; } = problem;
}
