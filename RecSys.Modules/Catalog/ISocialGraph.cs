namespace RecSys.Catalog;

/// <summary>One user's neighbourhood, read once per request. Every array is sorted ascending so membership is a binary search.</summary>
public sealed class SocialContext
{
    public static SocialContext Empty { get; } = new([], [], [], [], []);

    public SocialContext(int[] friends, int[] followedAuthors, int[] groups, int[] blockedAuthors, int[] groupPeers)
    {
        Friends = friends;
        FollowedAuthors = followedAuthors;
        Groups = groups;
        BlockedAuthors = blockedAuthors;
        GroupPeers = groupPeers;
    }

    /// <summary>User indices of friends.</summary>
    public int[] Friends { get; }

    /// <summary>User indices of the authors this user follows.</summary>
    public int[] FollowedAuthors { get; }

    /// <summary>Group ids this user belongs to.</summary>
    public int[] Groups { get; }

    /// <summary>Authors this user blocked: never shown.</summary>
    public int[] BlockedAuthors { get; }

    /// <summary>Users who share at least one group with this user.</summary>
    public int[] GroupPeers { get; }

    public bool IsFriend(int user) => Array.BinarySearch(Friends, user) >= 0;
    public bool Follows(int author) => Array.BinarySearch(FollowedAuthors, author) >= 0;
    public bool HasBlocked(int author) => Array.BinarySearch(BlockedAuthors, author) >= 0;
    public bool SharesGroupWith(int user) => Array.BinarySearch(GroupPeers, user) >= 0;
}

/// <summary>Social edges: friends, follows, groups and blocks.</summary>
public interface ISocialGraph
{
    ValueTask<SocialContext> GetContextAsync(int userIndex, CancellationToken cancellationToken);
}

/// <summary>A directed social edge as loaders deliver it.</summary>
public enum SocialEdgeKind : byte
{
    Friend,
    Follow,
    MemberOf,
    Block,
}

/// <summary>An edge from a user to a user (friend, follow, block) or to a group (member-of).</summary>
public readonly record struct SocialEdge(int From, int To, SocialEdgeKind Kind);

/// <summary>Replaces the social graph (demo seeding, PostgreSQL refresh).</summary>
public interface ISocialGraphWriter
{
    void Load(int userCount, IReadOnlyList<SocialEdge> edges);
}
