namespace RecSys.Catalog.Memory;

/// <summary>The embedded social graph: adjacency lists per user, each sorted, built once per load.</summary>
internal sealed class InMemorySocialGraph : ISocialGraph, ISocialGraphWriter
{
    private volatile SocialContext[] _contexts = [];

    public ValueTask<SocialContext> GetContextAsync(int userIndex, CancellationToken cancellationToken)
    {
        var contexts = _contexts;
        return ValueTask.FromResult((uint)userIndex < (uint)contexts.Length ? contexts[userIndex] : SocialContext.Empty);
    }

    public void Load(int userCount, IReadOnlyList<SocialEdge> edges)
    {
        ArgumentNullException.ThrowIfNull(edges);
        var friends = NewLists(userCount);
        var follows = NewLists(userCount);
        var groups = NewLists(userCount);
        var blocks = NewLists(userCount);
        var groupMembers = new Dictionary<int, List<int>>();

        foreach (var edge in edges)
        {
            if ((uint)edge.From >= (uint)userCount) throw new ArgumentException($"Social edge from unknown user index {edge.From}.", nameof(edges));
            switch (edge.Kind)
            {
                case SocialEdgeKind.Friend:
                    // Friendship is mutual whichever way the loader wrote it.
                    friends[edge.From].Add(edge.To);
                    if ((uint)edge.To < (uint)userCount) friends[edge.To].Add(edge.From);
                    break;
                case SocialEdgeKind.Follow:
                    follows[edge.From].Add(edge.To);
                    break;
                case SocialEdgeKind.Block:
                    blocks[edge.From].Add(edge.To);
                    break;
                case SocialEdgeKind.MemberOf:
                    groups[edge.From].Add(edge.To);
                    if (!groupMembers.TryGetValue(edge.To, out var members)) groupMembers[edge.To] = members = [];
                    members.Add(edge.From);
                    break;
                default:
                    throw new ArgumentException($"Unknown social edge kind {edge.Kind}.", nameof(edges));
            }
        }

        var contexts = new SocialContext[userCount];
        var peers = new List<int>();
        for (var u = 0; u < userCount; u++)
        {
            peers.Clear();
            foreach (var g in groups[u])
            {
                foreach (var member in groupMembers[g])
                {
                    if (member != u) peers.Add(member);
                }
            }
            contexts[u] = new SocialContext(SortedUnique(friends[u]), SortedUnique(follows[u]), SortedUnique(groups[u]), SortedUnique(blocks[u]), SortedUnique(peers));
        }
        _contexts = contexts;
    }

    private static List<int>[] NewLists(int count)
    {
        var lists = new List<int>[count];
        for (var i = 0; i < count; i++) lists[i] = [];
        return lists;
    }

    private static int[] SortedUnique(List<int> values)
    {
        if (values.Count == 0) return [];
        var array = values.ToArray();
        Array.Sort(array);
        var n = 1;
        for (var i = 1; i < array.Length; i++)
        {
            if (array[i] != array[n - 1]) array[n++] = array[i];
        }
        return n == array.Length ? array : array[..n];
    }
}
