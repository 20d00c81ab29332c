using Microsoft.Extensions.DependencyInjection;
using RecSys.Catalog;
using RecSys.Features;
using RecSys.Retrieval;

namespace RecSys.Tests.Retrieval;

public class CandidateGeneratorTests
{
    [Fact]
    public async Task Merged_candidates_are_unique_eligible_and_keep_every_source_flag()
    {
        var world = TestWorld.Small;
        using var services = await TestWorld.CreateServicesAsync(world, settings: new Dictionary<string, string?>
        {
            ["Retrieval:AnnCount"] = "200",
            ["Retrieval:PopularCount"] = "300",
        });
        var catalog = services.GetRequiredService<ICatalog>();
        var embeddings = services.GetRequiredService<ItemEmbeddingStore>().Current!;
        var generator = services.GetRequiredService<ICandidateGenerator>();
        var user = world.Users[3];
        var history = await services.GetRequiredService<IFeatureStore>().GetUserStateAsync(user.Index, default);
        var query = new float[embeddings.Dimensions];
        Assert.True(UserEmbedding.FoldIn(embeddings, history.RecentItems, 20, query));
        var filter = new EligibilityFilter(catalog.Columns, allowNsfw: false, blockedAuthors: [], history.InteractedItems);

        using var set = await generator.GenerateAsync(new CandidateQuery(query, filter, Locales.RegionCode(user.Region), Locales.LanguageCode(user.Language)), default);

        Assert.InRange(set.Count, 200, 500);
        Assert.Equal(set.Count, set.Items.ToArray().Distinct().Count());
        Assert.All(set.Items.ToArray(), i => Assert.True(filter.IsEligible(i)));
        Assert.DoesNotContain(set.Items.ToArray(), history.InteractedItems.Contains);
        var sources = set.Sources.ToArray();
        Assert.Equal(200, sources.Count(s => s.HasFlag(CandidateSource.Ann)));
        Assert.Equal(300, sources.Count(s => s.HasFlag(CandidateSource.Popular)));
        // Some popular items are also nearest neighbours: those carry both flags, once.
        Assert.Equal(500 - set.Count, sources.Count(s => s == (CandidateSource.Ann | CandidateSource.Popular)));
    }

    [Fact]
    public async Task Cold_start_gets_popular_items_in_the_requested_language_first()
    {
        var world = TestWorld.Small;
        using var services = await TestWorld.CreateServicesAsync(world, settings: new Dictionary<string, string?> { ["Retrieval:ColdStartCount"] = "50" });
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
}
