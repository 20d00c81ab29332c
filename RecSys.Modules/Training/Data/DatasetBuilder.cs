using RecSys.Events;

namespace RecSys.Training.Data;

/// <summary>Collects events and metadata under string ids, assigns dense indices in order of first appearance, and sorts events by time (stable).</summary>
internal sealed class DatasetBuilder
{
    private readonly Dictionary<string, int> _users = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _items = new(StringComparer.Ordinal);
    private readonly List<string> _userIds = [];
    private readonly List<string> _itemIds = [];
    private readonly List<ItemMetadata> _itemMeta = [];
    private readonly List<UserMetadata> _userMeta = [];
    private readonly List<Interaction> _events = [];

    public int User(string id)
    {
        if (_users.TryGetValue(id, out var index)) return index;
        index = _userIds.Count;
        _users.Add(id, index);
        _userIds.Add(id);
        _userMeta.Add(UserMetadata.Unknown);
        return index;
    }

    public int Item(string id)
    {
        if (_items.TryGetValue(id, out var index)) return index;
        index = _itemIds.Count;
        _items.Add(id, index);
        _itemIds.Add(id);
        _itemMeta.Add(ItemMetadata.Unknown);
        return index;
    }

    public bool HasItem(string id) => _items.ContainsKey(id);

    public bool HasUser(string id) => _users.ContainsKey(id);

    public void SetItem(string id, ItemMetadata metadata) => _itemMeta[Item(id)] = metadata;

    public void SetUser(string id, UserMetadata metadata) => _userMeta[User(id)] = metadata;

    public void Add(string userId, string itemId, EventType type, long unixSeconds, float value) =>
        _events.Add(new Interaction(User(userId), Item(itemId), type, unixSeconds, value));

    public int EventCount => _events.Count;

    public InteractionDataset Build(string name)
    {
        var events = _events.ToArray();
        // Stable sort by time: ties keep file order, which for same-second events is the order they happened in.
        var order = new int[events.Length];
        for (var i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(order, (a, b) => events[a].UnixSeconds != events[b].UnixSeconds ? events[a].UnixSeconds.CompareTo(events[b].UnixSeconds) : a.CompareTo(b));
        var sorted = new Interaction[events.Length];
        for (var i = 0; i < order.Length; i++) sorted[i] = events[order[i]];
        return new InteractionDataset(name, _userIds.ToArray(), _itemIds.ToArray(), sorted, _itemMeta.ToArray(), _userMeta.ToArray());
    }
}
