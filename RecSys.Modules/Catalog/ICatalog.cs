using System.Diagnostics.CodeAnalysis;

namespace RecSys.Catalog;

/// <summary>Items and users. Reads are lock-free over an immutable snapshot that a loader replaces atomically.</summary>
public interface ICatalog
{
    /// <summary>True once a snapshot has been loaded.</summary>
    bool IsLoaded { get; }

    /// <summary>Identifies the loaded snapshot (for logs and responses).</summary>
    string Version { get; }

    int ItemCount { get; }

    int CategoryCount { get; }

    /// <summary>Hot columns of every item, indexed by <see cref="Item.Index"/>.</summary>
    ItemColumns Columns { get; }

    Item GetItem(int index);

    bool TryGetItem(string id, [NotNullWhen(true)] out Item? item);

    bool TryGetUser(string id, [NotNullWhen(true)] out UserProfile? user);

    UserProfile GetUser(int index);
}

/// <summary>What a catalog loader hands to <see cref="ICatalogWriter.Load"/>.</summary>
public sealed record CatalogSnapshot(string Version, IReadOnlyList<Item> Items, IReadOnlyList<UserProfile> Users, IReadOnlyList<string> Categories);

/// <summary>Replaces the catalog's snapshot (demo seeding, PostgreSQL refresh).</summary>
public interface ICatalogWriter
{
    void Load(CatalogSnapshot snapshot);
}
