using System.Numerics.Tensors;
using RecSys.Catalog;
using RecSys.Events;

namespace RecSys.Demo;

/// <summary>
/// Generates a <see cref="DemoWorld"/> deterministically from <see cref="DemoOptions"/>. Every entity draws from its
/// own seeded random stream, so the result does not depend on thread scheduling.
/// </summary>
public static class DemoWorldGenerator
{
    private static readonly string[] CategoryNames =
    [
        "news", "sports", "music", "movies", "gaming", "tech", "science", "travel", "food", "fashion",
        "fitness", "finance", "comedy", "pets", "art", "books", "cars", "diy", "education", "health",
    ];

    private static readonly string[] Adjectives = ["Quick", "Hidden", "Bright", "Quiet", "Bold", "Little", "Grand", "Secret", "Daily", "Wild", "Simple", "Golden"];
    private static readonly string[] Nouns = ["guide", "story", "take", "moments", "notes", "picks", "review", "diary", "tips", "highlights", "session", "tour"];

    // Region -> its main language and its share of users.
    private static readonly (string Region, string Language, double Share)[] RegionMix =
    [
        ("us", "en", 0.30), ("gb", "en", 0.10), ("de", "de", 0.10), ("fr", "fr", 0.10),
        ("br", "pt", 0.10), ("in", "hi", 0.15), ("jp", "ja", 0.10), ("es", "es", 0.05),
    ];

    private const int SlateSize = 10;

    public static DemoWorld Generate(DemoOptions options, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var anchor = options.Anchor ?? new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero);
        var d = options.Dimensions;
        var categories = Enumerable.Range(0, options.Categories).Select(c => c < CategoryNames.Length ? CategoryNames[c] : $"category-{c + 1}").ToArray();

        // Category centroids: the structure that tastes and items share.
        var centroids = new float[options.Categories * d];
        var rng = Stream(options.Seed, 0, 0);
        for (var c = 0; c < options.Categories; c++) UnitGaussian(rng, centroids.AsSpan(c * d, d));

        var users = new UserProfile[options.Users];
        var tastes = new float[options.Users * d];
        var topCategory = new int[options.Users];
        Parallel.For(0, options.Users, u => MakeUser(options, u, centroids, users, tastes, topCategory));
        progress?.Report($"{users.Length:N0} users");

        var authorCount = Math.Max(1, options.Users / 20);
        var authorUsers = new int[authorCount];
        for (var a = 0; a < authorCount; a++) authorUsers[a] = (int)((long)a * options.Users / authorCount);

        var items = new Item[options.Items];
        var trueVectors = new float[options.Items * d];
        var observed = new float[options.Items * d];
        var quality = new float[options.Items];
        Parallel.For(0, options.Items, i => MakeItem(options, anchor, i, categories, centroids, users, topCategory, authorUsers, items, trueVectors, observed, quality));
        progress?.Report($"{items.Length:N0} items");

        var itemsByAuthor = new Dictionary<int, List<int>>();
        foreach (var item in items)
        {
            if (!itemsByAuthor.TryGetValue(item.AuthorIndex, out var list)) itemsByAuthor[item.AuthorIndex] = list = [];
            list.Add(item.Index);
        }

        var social = new UserSocial[options.Users];
        var groupCount = Math.Max(options.Categories, options.Users / 10);
        Parallel.For(0, options.Users, u => social[u] = MakeSocial(options, u, users, tastes, centroids, topCategory, authorUsers, groupCount));
        var edges = social.SelectMany(s => s.Edges).ToArray();
        progress?.Report($"{edges.Length:N0} social edges");

        var popularPool = Enumerable.Range(0, options.Items).OrderByDescending(i => quality[i]).ThenBy(i => i).Take(Math.Min(2000, options.Items)).ToArray();
        var perUser = new Interaction[options.Users][];
        Parallel.For(0, options.Users, u => perUser[u] = MakeHistory(options, anchor, u, users, tastes, items, trueVectors, quality, social[u], itemsByAuthor, popularPool));
        var interactions = perUser.SelectMany(x => x).ToArray();
        var times = interactions.Select(e => e.UnixSeconds).ToArray();
        Array.Sort(times, interactions);
        progress?.Report($"{interactions.Length:N0} events");

        return new DemoWorld(options, anchor, categories, items, users, edges, interactions, observed, trueVectors, tastes, quality);
    }

    private static void MakeUser(DemoOptions o, int u, float[] centroids, UserProfile[] users, float[] tastes, int[] topCategory)
    {
        var d = o.Dimensions;
        var rng = Stream(o.Seed, 1, u);
        var (region, language, _) = RegionMix[PickRegion(rng)];
        if (rng.NextDouble() > 0.85) language = "en";
        var dwell = (float)Math.Exp(3.2 + (0.5 * Gaussian(rng)));
        users[u] = new UserProfile(u, $"u_{u}", 16 + rng.Next(55), region, language, rng.NextDouble() < 0.3, MathF.Round(dwell, 1));

        var taste = tastes.AsSpan(u * d, d);
        var interests = 1 + rng.Next(3);
        var best = 0.0;
        for (var k = 0; k < interests; k++)
        {
            var c = rng.Next(o.Categories);
            var w = 0.3 + rng.NextDouble();
            if (w > best) (best, topCategory[u]) = (w, c);
            TensorPrimitives.MultiplyAdd(centroids.AsSpan(c * d, d), (float)w, taste, taste);
        }
        AddNoise(rng, taste, 0.5f);
        Normalize(taste);
    }

    private static void MakeItem(DemoOptions o, DateTimeOffset anchor, int i, string[] categories, float[] centroids, UserProfile[] users,
        int[] topCategory, int[] authorUsers, Item[] items, float[] trueVectors, float[] observed, float[] quality)
    {
        var d = o.Dimensions;
        var rng = Stream(o.Seed, 2, i);
        // Popular authors post more: the square skews the draw towards low author numbers.
        var author = authorUsers[(int)(authorUsers.Length * Math.Pow(rng.NextDouble(), 2))];
        var category = rng.NextDouble() < 0.7 ? topCategory[author] : rng.Next(o.Categories);
        var v = trueVectors.AsSpan(i * d, d);
        centroids.AsSpan(category * d, d).CopyTo(v);
        AddNoise(rng, v, 0.8f);
        Normalize(v);
        var obs = observed.AsSpan(i * d, d);
        v.CopyTo(obs);
        AddNoise(rng, obs, 0.3f);
        Normalize(obs);

        quality[i] = (float)Gaussian(rng);
        var ageHours = rng.NextDouble() < 0.02 ? rng.NextDouble() * 24 : rng.NextDouble() * 90 * 24;
        var authorProfile = users[author];
        var (region, language) = rng.NextDouble() < 0.9
            ? (authorProfile.Region, authorProfile.Language)
            : (RegionMix[rng.Next(RegionMix.Length)].Region, RegionMix[rng.Next(RegionMix.Length)].Language);
        var title = $"{Adjectives[rng.Next(Adjectives.Length)]} {categories[category]} {Nouns[rng.Next(Nouns.Length)]} #{i}";
        items[i] = new Item(
            i, $"i_{i}", title, category, categories[category], author,
            anchor - TimeSpan.FromHours(Math.Round(ageHours, 2)),
            MathF.Round(1f / (1f + MathF.Exp(-quality[i])), 4),
            rng.NextDouble() < 0.03, region, language,
            $"https://cdn.recsys.example/thumbs/i_{i}.jpg");
    }

    private sealed record UserSocial(SocialEdge[] Edges, HashSet<int> Friends, HashSet<int> FollowedAuthors, HashSet<int> BlockedAuthors);

    private static UserSocial MakeSocial(DemoOptions o, int u, UserProfile[] users, float[] tastes, float[] centroids, int[] topCategory, int[] authorUsers, int groupCount)
    {
        var d = o.Dimensions;
        var rng = Stream(o.Seed, 3, u);
        var edges = new List<SocialEdge>();
        var friends = new HashSet<int>();
        for (var k = 0; k < 8; k++)
        {
            var v = rng.Next(users.Length);
            // Most friends live in the same region.
            for (var tries = 0; tries < 3 && users[v].Region != users[u].Region && rng.NextDouble() < 0.7; tries++) v = rng.Next(users.Length);
            if (v != u && friends.Add(v)) edges.Add(new SocialEdge(u, v, SocialEdgeKind.Friend));
        }

        var taste = tastes.AsSpan(u * d, d);
        var sampled = new List<(double Score, int Author)>();
        for (var k = 0; k < Math.Min(30, authorUsers.Length); k++)
        {
            var author = authorUsers[rng.Next(authorUsers.Length)];
            var score = TensorPrimitives.Dot(taste, centroids.AsSpan(topCategory[author] * d, d)) + (0.3 * Gaussian(rng));
            sampled.Add((score, author));
        }
        var follows = new HashSet<int>();
        foreach (var (_, author) in sampled.OrderByDescending(s => s.Score).ThenBy(s => s.Author))
        {
            if (follows.Count == 10) break;
            if (author != u && follows.Add(author)) edges.Add(new SocialEdge(u, author, SocialEdgeKind.Follow));
        }

        var groupsPerCategory = Math.Max(1, groupCount / o.Categories);
        var joined = new HashSet<int>();
        for (var k = rng.Next(4); k > 0; k--)
        {
            var g = rng.NextDouble() < 0.8 ? topCategory[u] + (o.Categories * rng.Next(groupsPerCategory)) : rng.Next(groupCount);
            if (joined.Add(g)) edges.Add(new SocialEdge(u, g, SocialEdgeKind.MemberOf));
        }

        var blocked = new HashSet<int>();
        if (rng.NextDouble() < 0.3)
        {
            var author = authorUsers[rng.Next(authorUsers.Length)];
            if (author != u && !follows.Contains(author) && blocked.Add(author)) edges.Add(new SocialEdge(u, author, SocialEdgeKind.Block));
        }
        return new UserSocial([.. edges], friends, follows, blocked);
    }

    private static Interaction[] MakeHistory(DemoOptions o, DateTimeOffset anchor, int u, UserProfile[] users, float[] tastes, Item[] items,
        float[] trueVectors, float[] quality, UserSocial social, Dictionary<int, List<int>> itemsByAuthor, int[] popularPool)
    {
        var d = o.Dimensions;
        var rng = Stream(o.Seed, 4, u);
        var user = users[u];
        var events = new List<Interaction>();
        var activity = Math.Exp(0.5 * Gaussian(rng)) / Math.Exp(0.125);
        var sessions = (int)Math.Round(o.SessionsPerUser * activity);
        var anchorUnix = anchor.ToUnixTimeSeconds();
        var followed = social.FollowedAuthors.ToArray();
        Array.Sort(followed);
        var pool = new List<(double Logged, double Utility, int Item)>(256);
        var shown = new HashSet<int>();

        for (var s = 0; s < sessions; s++)
        {
            var t = anchorUnix - 600 - (long)(rng.NextDouble() * o.HistoryDays * 86_400);
            pool.Clear();
            shown.Clear();
            void Consider(int item)
            {
                var it = items[item];
                if (!shown.Add(item)) return;
                var created = it.CreatedAt.ToUnixTimeSeconds();
                if (created > t) return;
                if (it.IsNsfw && !user.AllowNsfw) return;
                if (social.BlockedAuthors.Contains(it.AuthorIndex)) return;
                var utility = Utility(tastes.AsSpan(u * d, d), trueVectors.AsSpan(item * d, d), quality[item], (t - created) / 86_400.0,
                    social.FollowedAuthors.Contains(it.AuthorIndex), social.Friends.Contains(it.AuthorIndex), it.Language == user.Language);
                // The logging policy (yesterday's recommender) sees utility only through noise.
                pool.Add(((0.5 * utility) + Gaussian(rng), utility, item));
            }
            for (var k = 0; k < 120; k++) Consider(rng.Next(items.Length));
            for (var k = 0; k < 40; k++) Consider(popularPool[rng.Next(popularPool.Length)]);
            for (var k = 0; k < 20 && followed.Length > 0; k++)
            {
                if (itemsByAuthor.TryGetValue(followed[rng.Next(followed.Length)], out var byAuthor)) Consider(byAuthor[rng.Next(byAuthor.Count)]);
            }
            pool.Sort((a, b) => b.Logged.CompareTo(a.Logged));

            for (var position = 0; position < Math.Min(SlateSize, pool.Count); position++)
            {
                var (_, utility, item) = pool[position];
                var at = t + (position * 3);
                events.Add(new Interaction(u, item, EventType.Impression, at, position));
                var positionBias = 1.0 / Math.Sqrt(1 + position);
                if (rng.NextDouble() < Sigmoid(utility - 1.5) * positionBias)
                {
                    events.Add(new Interaction(u, item, EventType.Click, at + 1, 0));
                    var dwell = Math.Clamp(user.AvgDwellSeconds * Math.Exp((0.5 * utility) + (0.3 * Gaussian(rng))), 1, 3600);
                    events.Add(new Interaction(u, item, EventType.Dwell, at + 2, (float)Math.Round(dwell, 1)));
                    if (rng.NextDouble() < Sigmoid(utility - 2.5))
                    {
                        events.Add(new Interaction(u, item, EventType.Like, at + 2, 0));
                        if (rng.NextDouble() < 0.15) events.Add(new Interaction(u, item, EventType.Share, at + 2, 0));
                    }
                }
                else if (utility < -1 && rng.NextDouble() < 0.05)
                {
                    events.Add(new Interaction(u, item, EventType.Hide, at + 1, 0));
                }
            }
        }
        return [.. events];
    }

    /// <summary>The hidden preference model: how much a user wants an item at a given age.</summary>
    internal static double Utility(ReadOnlySpan<float> taste, ReadOnlySpan<float> item, float quality, double ageDays, bool followsAuthor, bool friendAuthor, bool languageMatch) =>
        (3.0 * TensorPrimitives.Dot(taste, item))
        + (0.8 * quality)
        + (1.0 * Math.Exp(-ageDays / 3))
        + (followsAuthor ? 0.7 : 0)
        + (friendAuthor ? 0.5 : 0)
        + (languageMatch ? 0.5 : -0.5);

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    private static int PickRegion(Random rng)
    {
        var r = rng.NextDouble();
        for (var k = 0; k < RegionMix.Length; k++)
        {
            r -= RegionMix[k].Share;
            if (r <= 0) return k;
        }
        return RegionMix.Length - 1;
    }

    /// <summary>An independent, reproducible random stream per (seed, entity kind, entity).</summary>
    private static Random Stream(int seed, int kind, int entity)
    {
        // SplitMix64 finaliser over a combination of the three; HashCode is randomised per process, so not usable here.
        var x = unchecked(((ulong)(uint)seed * 0x9E3779B97F4A7C15UL) + ((ulong)(uint)kind * 0xBF58476D1CE4E5B9UL) + (ulong)(uint)entity);
        x = unchecked((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL);
        x = unchecked((x ^ (x >> 27)) * 0x94D049BB133111EBUL);
        x ^= x >> 31;
        return new Random((int)(x & 0x7FFF_FFFF));
    }

    private static double Gaussian(Random rng)
    {
        // Box-Muller; 1 - NextDouble() keeps the logarithm's argument in (0, 1].
        var u1 = 1.0 - rng.NextDouble();
        var u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    private static void UnitGaussian(Random rng, Span<float> v)
    {
        for (var k = 0; k < v.Length; k++) v[k] = (float)Gaussian(rng);
        Normalize(v);
    }

    /// <summary>Adds isotropic noise whose expected norm is <paramref name="norm"/>.</summary>
    private static void AddNoise(Random rng, Span<float> v, float norm)
    {
        var sigma = norm / MathF.Sqrt(v.Length);
        for (var k = 0; k < v.Length; k++) v[k] += sigma * (float)Gaussian(rng);
    }

    private static void Normalize(Span<float> v)
    {
        var n = TensorPrimitives.Norm(v);
        if (n > 0) TensorPrimitives.Divide(v, n, v);
    }
}
