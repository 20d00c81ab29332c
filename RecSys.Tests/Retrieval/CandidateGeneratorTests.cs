using System.Numerics.Tensors;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using RecSys.Catalog;
using RecSys.Events;
using RecSys.Features;
using RecSys.Features.Memory;
using RecSys.Retrieval;
using RecSys.Retrieval.Exact;
using RecSys.Retrieval.Hnsw;

namespace RecSys.Tests.Retrieval;

public class CandidateGeneratorTests
{
    private static readonly Dictionary<string, string?> OnlyAnnAndPopular = new()
    {
        ["Retrieval:AnnCount"] = "200",
        ["Retrieval:PopularCount"] = "300",
        ["Retrieval:ItemToItemCount"] = "0",
        ["Retrieval:SocialCount"] = "0",
        ["Retrieval:TrendingCount"] = "0",
        ["Retrieval:FreshCount"] = "0",
    };

    private static async Task<(CandidateQuery Query, UserOnlineState History)> QueryForAsync(ServiceProvider services, UserProfile user)
    {
        var catalog = services.GetRequiredService<ICatalog>();
        var embeddings = services.GetRequiredService<ItemEmbeddingStore>().Current!;
        var history = await services.GetRequiredService<IFeatureStore>().GetUserStateAsync(user.Index, default);
        var social = await services.GetRequiredService<ISocialGraph>().GetContextAsync(user.Index, default);
        var vector = new float[embeddings.Dimensions];
        Assert.True(UserEmbedding.FoldIn(embeddings, history.RecentItems, 20, vector));
        var filter = new EligibilityFilter(catalog.Columns, allowNsfw: false, social.BlockedAuthors, history.InteractedItems);
        var query = new CandidateQuery(vector, filter, Locales.RegionCode(user.Region), Locales.LanguageCode(user.Language))
        {
            RecentItems = history.RecentItems,
            Social = social,
        };
        return (query, history);
    }

    [Fact]
    public async Task A_query_can_override_the_ann_and_popular_counts_for_its_request()
    {
        var world = TestWorld.Small;
        using var services = await TestWorld.CreateServicesAsync(world, settings: OnlyAnnAndPopular);
        var generator = services.GetRequiredService<ICandidateGenerator>();
        var (query, _) = await QueryForAsync(services, world.Users[3]);

        using var set = await generator.GenerateAsync(query with { AnnCount = 40, PopularCount = 7 }, default);

        var sources = set.Sources.ToArray();
        Assert.Equal(40, sources.Count(s => s.HasFlag(CandidateSource.Ann)));
        Assert.Equal(7, sources.Count(s => s.HasFlag(CandidateSource.Popular)));
    }

    [Fact]
    public async Task Merged_candidates_are_unique_eligible_and_keep_every_source_flag()
    {
        var world = TestWorld.Small;
        using var services = await TestWorld.CreateServicesAsync(world, settings: OnlyAnnAndPopular);
        var generator = services.GetRequiredService<ICandidateGenerator>();
        var (query, history) = await QueryForAsync(services, world.Users[3]);

        using var set = await generator.GenerateAsync(query, default);

        Assert.InRange(set.Count, 200, 500);
        Assert.Equal(set.Count, set.Items.ToArray().Distinct().Count());
        Assert.All(set.Items.ToArray(), i => Assert.True(query.Filter.IsEligible(i)));
        Assert.DoesNotContain(set.Items.ToArray(), history.InteractedItems.Contains);
        var sources = set.Sources.ToArray();
        Assert.Equal(200, sources.Count(s => s.HasFlag(CandidateSource.Ann)));
        Assert.Equal(300, sources.Count(s => s.HasFlag(CandidateSource.Popular)));
        // Some popular items are also nearest neighbours: those carry both flags, once.
        Assert.Equal(500 - set.Count, sources.Count(s => s == (CandidateSource.Ann | CandidateSource.Popular)));
    }

    [Fact]
    public async Task Every_source_contributes_under_its_quota_and_every_candidate_carries_its_similarity()
    {
        var world = TestWorld.Small;
        var settings = new Dictionary<string, string?>
        {
            ["Retrieval:AnnCount"] = "150",
            ["Retrieval:ItemToItemCount"] = "40",
            ["Retrieval:SocialCount"] = "30",
            ["Retrieval:TrendingCount"] = "25",
            ["Retrieval:FreshCount"] = "20",
            ["Retrieval:PopularCount"] = "35",
            ["Retrieval:SourceTimeoutMilliseconds"] = "5000",
        };
        using var services = await TestWorld.CreateServicesAsync(world, settings: settings);
        var generator = services.GetRequiredService<ICandidateGenerator>();
        var embeddings = services.GetRequiredService<ItemEmbeddingStore>().Current!;
        // A user with history and a social neighbourhood.
        var user = world.Users.First(u => world.Edges.Count(e => e.From == u.Index && e.Kind is SocialEdgeKind.Friend or SocialEdgeKind.Follow) >= 3);
        var (query, _) = await QueryForAsync(services, user);

        using var set = await generator.GenerateAsync(query, default);

        var sources = set.Sources.ToArray();
        var quotas = new (CandidateSource Source, int Quota)[]
        {
            (CandidateSource.Ann, 150), (CandidateSource.ItemToItem, 40), (CandidateSource.Social, 30),
            (CandidateSource.Trending, 25), (CandidateSource.Fresh, 20), (CandidateSource.Popular, 35),
        };
        foreach (var (source, quota) in quotas)
        {
            var count = sources.Count(s => s.HasFlag(source));
            Assert.True(count > 0 && count <= quota, $"{source}: {count} candidates, quota {quota}");
        }
        Assert.Equal(150, sources.Count(s => s.HasFlag(CandidateSource.Ann)));
        Assert.Equal(set.Count, set.Items.ToArray().Distinct().Count());
        Assert.All(set.Items.ToArray(), i => Assert.True(query.Filter.IsEligible(i)));
        var vector = query.QueryVector.ToArray();
        for (var i = 0; i < set.Count; i++)
        {
            Assert.Equal(TensorPrimitives.Dot(embeddings.Vector(set.Items[i]), vector), set.Scores[i], 3);
        }
        // Social candidates are by the user's friends, followed authors or group peers.
        var catalog = services.GetRequiredService<ICatalog>();
        for (var i = 0; i < set.Count; i++)
        {
            if (!sources[i].HasFlag(CandidateSource.Social)) continue;
            var author = catalog.Columns.AuthorIndices[set.Items[i]];
            Assert.True(query.Social.IsFriend(author) || query.Social.Follows(author) || query.Social.SharesGroupWith(author));
        }
    }

    [Fact]
    public async Task The_index_replaces_the_exact_scan_once_built_and_finds_what_the_exact_scan_finds()
    {
        var world = TestWorld.Small;
        using var services = await TestWorld.CreateServicesAsync(world, settings: OnlyAnnAndPopular);
        var holder = services.GetRequiredService<AnnIndexHolder>();
        await holder.Building;
        var embeddings = services.GetRequiredService<ItemEmbeddingStore>().Current!;
        Assert.NotNull(holder.For(embeddings));
        var health = await services.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Name == "index");
        Assert.Equal(HealthStatus.Healthy, health.Status);

        var generator = services.GetRequiredService<ICandidateGenerator>();
        var overlap = 0;
        foreach (var user in world.Users.Take(10))
        {
            var history = await services.GetRequiredService<IFeatureStore>().GetUserStateAsync(user.Index, default);
            if (history.RecentItems.Length == 0) continue;
            var (query, _) = await QueryForAsync(services, user);
            using var set = await generator.GenerateAsync(query, default);
            var exact = new int[200];
            ExactSearch.Search(embeddings, query.QueryVector.Span, query.Filter, exact, new float[200]);
            var ann = set.Items.ToArray().Where((_, i) => set.Sources[i].HasFlag(CandidateSource.Ann)).ToArray();
            Assert.Equal(200, ann.Length);
            overlap += ann.Intersect(exact).Count();
        }
        Assert.True(overlap >= 0.95 * 200 * 10, $"ANN candidates overlap the exact top-200 by {overlap / 2000.0:P1}");
    }

    [Fact]
    public async Task A_source_that_misses_its_timeout_is_left_out_and_the_rest_still_serve()
    {
        var world = TestWorld.Small;
        var settings = new Dictionary<string, string?>(OnlyAnnAndPopular)
        {
            ["Retrieval:TrendingCount"] = "50",
            ["Retrieval:SourceTimeoutMilliseconds"] = "50",
        };
        using var services = await TestWorld.CreateServicesAsync(world, s =>
        {
            s.Remove(s.Single(d => d.ServiceType == typeof(IFeatureStore)));
            s.AddSingleton<InMemoryFeatureStore>();
            s.AddSingleton<IFeatureStore>(sp => new SlowTrending(sp.GetRequiredService<InMemoryFeatureStore>()));
        }, settings);
        var generator = services.GetRequiredService<ICandidateGenerator>();
        var (query, _) = await QueryForAsync(services, world.Users[5]);

        (await generator.GenerateAsync(query, default)).Dispose(); // warm-up (first use builds the catalog lists)
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using var set = await generator.GenerateAsync(query, default);

        // The slow source takes 10 s; the request does not wait for it.
        Assert.True(watch.ElapsedMilliseconds < 5000, $"took {watch.ElapsedMilliseconds} ms");
        Assert.DoesNotContain(set.Sources.ToArray(), s => s.HasFlag(CandidateSource.Trending));
        Assert.Equal(200, set.Sources.ToArray().Count(s => s.HasFlag(CandidateSource.Ann)));
    }

    /// <summary>The real in-memory store whose trending list takes far longer than the source timeout.</summary>
    private sealed class SlowTrending(IFeatureStore inner) : IFeatureStore
    {
        public bool IsLoaded => inner.IsLoaded;
        public ValueTask<UserOnlineState> GetUserStateAsync(int userIndex, CancellationToken cancellationToken) => inner.GetUserStateAsync(userIndex, cancellationToken);
        public ValueTask GetItemStatsAsync(ReadOnlyMemory<int> items, Memory<ItemStats> destination, CancellationToken cancellationToken) => inner.GetItemStatsAsync(items, destination, cancellationToken);

        public async ValueTask<int> GetTrendingAsync(byte languageCode, Memory<int> destination, CancellationToken cancellationToken)
        {
            await Task.Delay(TimeSpan.FromSeconds(10), cancellationToken);
            return await inner.GetTrendingAsync(languageCode, destination, cancellationToken);
        }

        public async ValueTask<int> GetTrendingInRegionAsync(byte regionCode, Memory<int> destination, CancellationToken cancellationToken)
        {
            await Task.Delay(TimeSpan.FromSeconds(10), cancellationToken);
            return await inner.GetTrendingInRegionAsync(regionCode, destination, cancellationToken);
        }

        public ValueTask GetItemWindowCountsAsync(ReadOnlyMemory<int> items, TimeSpan window, Memory<ItemWindowCounts> destination, CancellationToken cancellationToken) =>
            inner.GetItemWindowCountsAsync(items, window, destination, cancellationToken);

        public ValueTask RefreshQueryVectorsAsync(ReadOnlyMemory<int> users, ItemEmbeddings embeddings, CancellationToken cancellationToken) =>
            inner.RefreshQueryVectorsAsync(users, embeddings, cancellationToken);

        public ValueTask MarkSeenAsync(int userIndex, ReadOnlyMemory<int> items, long unixSeconds, CancellationToken cancellationToken) => inner.MarkSeenAsync(userIndex, items, unixSeconds, cancellationToken);
        public ValueTask ApplyAsync(ReadOnlyMemory<Interaction> interactions, CancellationToken cancellationToken) => inner.ApplyAsync(interactions, cancellationToken);
        public void MarkLoaded(int userCount, int itemCount) => inner.MarkLoaded(userCount, itemCount);
    }

    [Fact]
    public async Task Cold_start_gets_popular_items_in_the_requested_language_first()
    {
        var world = TestWorld.Small;
        using var services = await TestWorld.CreateServicesAsync(world, settings: new Dictionary<string, string?>
        {
            ["Retrieval:ColdStartCount"] = "50",
            ["Retrieval:SocialCount"] = "0",
            ["Retrieval:TrendingCount"] = "0",
            ["Retrieval:FreshCount"] = "0",
        });
        var catalog = services.GetRequiredService<ICatalog>();
        var generator = services.GetRequiredService<ICandidateGenerator>();
        var filter = new EligibilityFilter(catalog.Columns, false, [], new HashSet<int>());
        var de = Locales.LanguageCode("de");

        using var set = await generator.GenerateAsync(new CandidateQuery(default, filter, Locales.RegionCode("de"), de), default);

        Assert.Equal(50, set.Count);
        Assert.All(set.Sources.ToArray(), s => Assert.Equal(CandidateSource.Popular, s));
        Assert.All(set.Items.ToArray(), i => Assert.Equal(de, catalog.Columns.LanguageCodes[i]));
        // Within the language, more engaging items come first.
        var engagement = set.Items.ToArray().Select(i => catalog.Columns.Engagement[i]).ToArray();
        Assert.True(engagement.First() >= engagement.Last());
    }

    [Fact]
    public async Task Cold_start_with_fresh_and_trending_gets_newest_items_in_the_language_and_no_nsfw()
    {
        var world = TestWorld.Small;
        using var services = await TestWorld.CreateServicesAsync(world, settings: new Dictionary<string, string?>
        {
            ["Retrieval:ColdStartCount"] = "10",
            ["Retrieval:FreshCount"] = "30",
            ["Retrieval:TrendingCount"] = "30",
            ["Retrieval:SourceTimeoutMilliseconds"] = "5000",
        });
        var catalog = services.GetRequiredService<ICatalog>();
        var columns = catalog.Columns;
        var generator = services.GetRequiredService<ICandidateGenerator>();
        var filter = new EligibilityFilter(columns, false, [], new HashSet<int>());
        var en = Locales.LanguageCode("en");

        using var set = await generator.GenerateAsync(new CandidateQuery(default, filter, Locales.Unknown, en), default);

        var fresh = set.Items.ToArray().Where((_, i) => set.Sources[i].HasFlag(CandidateSource.Fresh)).ToArray();
        Assert.Equal(30, fresh.Length);
        Assert.All(fresh, i => Assert.Equal(en, columns.LanguageCodes[i]));
        // They are the 30 newest eligible English items.
        var newest = Enumerable.Range(0, columns.Count).Where(i => columns.LanguageCodes[i] == en && filter.IsEligible(i))
            .OrderByDescending(i => columns.CreatedAtUnixSeconds[i]).Take(30).Select(i => columns.CreatedAtUnixSeconds[i]).Min();
        Assert.All(fresh, i => Assert.True(columns.CreatedAtUnixSeconds[i] >= newest));
        Assert.InRange(set.Sources.ToArray().Count(s => s.HasFlag(CandidateSource.Trending)), 1, 30);
        Assert.All(set.Items.ToArray(), i => Assert.False(columns.Nsfw[i]));
    }
}
