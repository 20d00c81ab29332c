using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;

namespace RecSys.Catalog.Memory;

/// <summary>The embedded catalog: one immutable snapshot swapped atomically on <see cref="Load"/>.</summary>
internal sealed class InMemoryCatalog : ICatalog, ICatalogWriter
{
    private sealed record State(
        string Version,
        Item[] Items,
        UserProfile[] Users,
        FrozenDictionary<string, int> ItemsById,
        FrozenDictionary<string, int> UsersById,
        ItemColumns Columns,
        int CategoryCount);

    private static readonly State EmptyState = new(
        "none", [], [], FrozenDictionary<string, int>.Empty, FrozenDictionary<string, int>.Empty, new ItemColumns(0), 0);

    private volatile State _state = EmptyState;

    public bool IsLoaded => !ReferenceEquals(_state, EmptyState);
    public string Version => _state.Version;
    public int ItemCount => _state.Items.Length;
    public int CategoryCount => _state.CategoryCount;
    public ItemColumns Columns => _state.Columns;

    public Item GetItem(int index) => _state.Items[index];

    public UserProfile GetUser(int index) => _state.Users[index];

    public bool TryGetItem(string id, [NotNullWhen(true)] out Item? item)
    {
        var state = _state;
        if (state.ItemsById.TryGetValue(id, out var index))
        {
            item = state.Items[index];
            return true;
        }
        item = null;
        return false;
    }

    public bool TryGetUser(string id, [NotNullWhen(true)] out UserProfile? user)
    {
        var state = _state;
        if (state.UsersById.TryGetValue(id, out var index))
        {
            user = state.Users[index];
            return true;
        }
        user = null;
        return false;
    }

    public void Load(CatalogSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var items = snapshot.Items.ToArray();
        var users = snapshot.Users.ToArray();
        for (var i = 0; i < items.Length; i++)
        {
            if (items[i].Index != i) throw new ArgumentException($"Item '{items[i].Id}' has index {items[i].Index}, expected {i}: items must be dense and ordered.", nameof(snapshot));
        }
        for (var u = 0; u < users.Length; u++)
        {
            if (users[u].Index != u) throw new ArgumentException($"User '{users[u].Id}' has index {users[u].Index}, expected {u}: users must be dense and ordered.", nameof(snapshot));
        }

        var columns = new ItemColumns(items.Length);
        for (var i = 0; i < items.Length; i++)
        {
            var item = items[i];
            columns.CategoryIds[i] = item.CategoryId;
            columns.AuthorIndices[i] = item.AuthorIndex;
            columns.CreatedAtUnixSeconds[i] = item.CreatedAt.ToUnixTimeSeconds();
            columns.Engagement[i] = item.EngagementScore;
            columns.Nsfw[i] = item.IsNsfw;
            columns.RegionCodes[i] = Locales.RegionCode(item.Region);
            columns.LanguageCodes[i] = Locales.LanguageCode(item.Language);
        }

        _state = new State(
            snapshot.Version,
            items,
            users,
            items.ToFrozenDictionary(i => i.Id, i => i.Index, StringComparer.Ordinal),
            users.ToFrozenDictionary(u => u.Id, u => u.Index, StringComparer.Ordinal),
            columns,
            snapshot.Categories.Count);
    }
}
