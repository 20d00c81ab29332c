using System.Globalization;
using System.Numerics.Tensors;
using RecSys.Training.Baselines;

namespace RecSys.Training;

/// <summary>
/// A model version written by <see cref="Trainer"/>, loaded for offline recommendation (the <c>recommend</c> verb).
/// TEMPORARY: recommendations are the retrieval stage alone (inner product of the user's vector with every item
/// vector, known items excluded; users without a vector get the most popular items) until the ranking issue's ONNX
/// rankers are in the model folder, when this runs the whole in-process funnel instead.
/// </summary>
public sealed class TrainedModel
{
    private readonly Dictionary<string, int> _userIndex;
    private readonly int[][] _known;
    private readonly int[] _popular;

    private TrainedModel(string directory, string[] itemIds, string[] userIds, float[] items, float[] users, int dimensions, int[][] known)
    {
        Directory = directory;
        ItemIds = itemIds;
        UserIds = userIds;
        ItemVectors = items;
        UserVectors = users;
        Dimensions = dimensions;
        _known = known;
        _userIndex = new Dictionary<string, int>(userIds.Length, StringComparer.Ordinal);
        for (var u = 0; u < userIds.Length; u++) _userIndex[userIds[u]] = u;
        var counts = new int[itemIds.Length];
        foreach (var row in known) foreach (var i in row) counts[i]++;
        _popular = Enumerable.Range(0, itemIds.Length).OrderByDescending(i => counts[i]).ThenBy(i => i).ToArray();
    }

    public string Directory { get; }
    public IReadOnlyList<string> ItemIds { get; }
    public IReadOnlyList<string> UserIds { get; }
    public float[] ItemVectors { get; }
    public float[] UserVectors { get; }
    public int Dimensions { get; }

    /// <summary>Loads a version folder, or the version a models root's <c>current</c> names. A corrupt file is refused with its path.</summary>
    public static TrainedModel Load(string path)
    {
        var dir = Trainer.ResolveVersionDirectory(path);
        var itemIds = File.ReadAllLines(Path.Combine(dir, Trainer.ItemIdsFile));
        var userIds = File.ReadAllLines(Path.Combine(dir, Trainer.UserIdsFile));
        var (items, itemCount, dims) = VectorFile.Read(Path.Combine(dir, Trainer.ItemVectorsFile));
        var (users, userCount, userDims) = VectorFile.Read(Path.Combine(dir, Trainer.UserVectorsFile));
        if (itemCount != itemIds.Length) throw new InvalidDataException($"{dir}: {itemCount} item vectors but {itemIds.Length} item ids.");
        if (userCount != userIds.Length || userDims != dims) throw new InvalidDataException($"{dir}: {userCount} x {userDims} user vectors for {userIds.Length} users and {dims} dimensions.");
        var lines = File.ReadAllLines(Path.Combine(dir, Trainer.UserItemsFile));
        if (lines.Length != userIds.Length) throw new InvalidDataException($"{Path.Combine(dir, Trainer.UserItemsFile)}: {lines.Length} lines for {userIds.Length} users.");
        var known = new int[lines.Length][];
        for (var u = 0; u < lines.Length; u++)
        {
            known[u] = lines[u].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s =>
                int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < itemIds.Length
                    ? i
                    : throw new InvalidDataException($"{Path.Combine(dir, Trainer.UserItemsFile)}:{u + 1}: '{s}' is not an item index below {itemIds.Length}.")).ToArray();
        }
        return new TrainedModel(dir, itemIds, userIds, items, users, dims, known);
    }

    public bool IsKnownUser(string userId) => _userIndex.ContainsKey(userId);

    /// <summary>The top <paramref name="k"/> item indices for a user, best first, without the items they already interacted with.</summary>
    public int[] Recommend(string userId, int k, float[]? scratch = null)
    {
        ArgumentNullException.ThrowIfNull(userId);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (!_userIndex.TryGetValue(userId, out var u) || TensorPrimitives.SumOfSquares(UserVectors.AsSpan(u * Dimensions, Dimensions)) == 0)
        {
            var exclude = u < _known.Length && _userIndex.ContainsKey(userId) ? new HashSet<int>(_known[u]) : [];
            return _popular.Where(i => !exclude.Contains(i)).Take(k).ToArray();
        }
        var scores = scratch is { Length: var n } && n >= ItemIds.Count ? scratch : new float[ItemIds.Count];
        var x = UserVectors.AsSpan(u * Dimensions, Dimensions);
        for (var i = 0; i < ItemIds.Count; i++) scores[i] = TensorPrimitives.Dot(x, ItemVectors.AsSpan(i * Dimensions, Dimensions));
        foreach (var i in _known[u]) scores[i] = float.NegativeInfinity;
        var top = new TopN(Math.Min(k, ItemIds.Count));
        for (var i = 0; i < ItemIds.Count; i++)
        {
            if (!float.IsNegativeInfinity(scores[i])) top.Push(scores[i], i);
        }
        var result = new int[top.Count];
        top.Drain(result, new float[result.Length]);
        return result;
    }
}
