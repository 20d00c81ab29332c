using RecSys.Catalog;
using RecSys.Events;

namespace RecSys.Demo;

/// <summary>
/// A generated world: catalog, users, social graph and an interaction log drawn from a hidden preference model
/// (latent tastes, item quality, freshness, position bias, social closeness). The hidden parts are kept so evaluation
/// can compare recommendations with what the generator's users truly prefer.
/// </summary>
public sealed class DemoWorld
{
    internal DemoWorld(DemoOptions options, DateTimeOffset anchor, string[] categories, Item[] items, UserProfile[] users,
        SocialEdge[] edges, Interaction[] interactions, float[] itemVectors, float[] trueItemVectors, float[] userTastes, float[] itemQuality)
    {
        Options = options;
        Anchor = anchor;
        Categories = categories;
        Items = items;
        Users = users;
        Edges = edges;
        Interactions = interactions;
        ItemVectors = itemVectors;
        TrueItemVectors = trueItemVectors;
        UserTastes = userTastes;
        ItemQuality = itemQuality;
    }

    public DemoOptions Options { get; }

    /// <summary>The world's "now": the log ends here and item ages are measured from it.</summary>
    public DateTimeOffset Anchor { get; }

    public IReadOnlyList<string> Categories { get; }
    public IReadOnlyList<Item> Items { get; }
    public IReadOnlyList<UserProfile> Users { get; }
    public IReadOnlyList<SocialEdge> Edges { get; }

    /// <summary>Every event, ordered by time.</summary>
    public Interaction[] Interactions { get; }

    /// <summary>The item vectors the service uses until the trainer produces its own: the hidden vectors plus noise.</summary>
    public float[] ItemVectors { get; }

    /// <summary>Hidden: the item vectors the preference model used.</summary>
    public float[] TrueItemVectors { get; }

    /// <summary>Hidden: each user's taste vector.</summary>
    public float[] UserTastes { get; }

    /// <summary>Hidden: each item's quality (how clickable it is regardless of taste).</summary>
    public float[] ItemQuality { get; }

    public int Dimensions => Options.Dimensions;

    /// <summary>A version string that changes with any generation parameter.</summary>
    public string Version => $"demo-s{Options.Seed}-i{Options.Items}-u{Options.Users}-{Anchor:yyyyMMdd}";

    public CatalogSnapshot ToCatalogSnapshot() => new(Version, Items, Users, Categories);
}
