using System.Diagnostics.CodeAnalysis;
using RecSys.Catalog;
using RecSys.Features;
using RecSys.Retrieval;

namespace RecSys.Tests.Features;

public class FeatureAssemblerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 1, 6, 0, 0, TimeSpan.Zero);

    private sealed class TinyCatalog : ICatalog
    {
        public TinyCatalog(ItemColumns columns) => Columns = columns;
        public bool IsLoaded => true;
        public string Version => "tiny";
        public int ItemCount => Columns.Count;
        public int CategoryCount => 4;
        public ItemColumns Columns { get; }
        public Item GetItem(int index) => throw new NotSupportedException();
        public bool TryGetItem(string id, [NotNullWhen(true)] out Item? item) => throw new NotSupportedException();
        public bool TryGetUser(string id, [NotNullWhen(true)] out UserProfile? user) => throw new NotSupportedException();
        public UserProfile GetUser(int index) => throw new NotSupportedException();
    }

    private static (ICatalog Catalog, FeatureContext Context) Fixture()
    {
        var columns = new ItemColumns(3);
        columns.CategoryIds[0] = 1; columns.AuthorIndices[0] = 10; columns.LanguageCodes[0] = Locales.LanguageCode("en"); columns.RegionCodes[0] = Locales.RegionCode("us");
        columns.CreatedAtUnixSeconds[0] = Now.AddHours(-3).ToUnixTimeSeconds();
        columns.CategoryIds[1] = 2; columns.AuthorIndices[1] = 20; columns.LanguageCodes[1] = Locales.LanguageCode("de"); columns.Nsfw[1] = true;
        columns.CreatedAtUnixSeconds[1] = Now.AddHours(-100).ToUnixTimeSeconds();
        columns.CategoryIds[2] = 1; columns.AuthorIndices[2] = 30; columns.Engagement[2] = 0.75f;
        var user = new UserProfile(0, "u_0", 30, "us", "en", false, 120f);
        // Recent history: items 0 and 2 (category 1) and 1 (category 2).
        var history = new UserOnlineState([0, 2, 1], new HashSet<int>(), 0);
        var social = new SocialContext(friends: [10], followedAuthors: [20], groups: [], blockedAuthors: [], groupPeers: [30]);
        var context = new FeatureContext(user, history, social, DeviceType.Tablet, Locales.RegionCode("us"), Locales.LanguageCode("en"), Now);
        return (new TinyCatalog(columns), context);
    }

    private static float[] Assemble(FeatureSchema schema)
    {
        var (catalog, context) = Fixture();
        var rows = new float[3 * schema.Count];
        var stats = new[] { new ItemStats(99, 19, 4, 0, 0, 0, 7f), default, default };
        new FeatureAssembler(schema, hotItemTrendScore: 5).Assemble(context, catalog,
            new CandidateFeatureInputs([0, 1, 2], [0.5f, 0.25f, -0.1f], [CandidateSource.Ann, CandidateSource.Popular | CandidateSource.Ann, CandidateSource.Fresh], stats), rows);
        return rows;
    }

    [Fact]
    public void Fills_each_named_feature_from_its_inputs()
    {
        var schema = FeatureSchema.Default;
        var rows = Assemble(schema);
        float At(int row, string name) => rows[(row * schema.Count) + schema.IndexOf(name)];

        Assert.Equal(0.5f, At(0, "ann_similarity"));
        Assert.Equal(2f / 3f, At(0, "user_category_affinity"), 5);
        Assert.Equal(1f / 3f, At(1, "user_category_affinity"), 5);
        Assert.Equal(MathF.Log(4), At(0, "item_freshness_hours"), 4);
        Assert.Equal(20f / 119f, At(0, "item_ctr"), 5);
        Assert.Equal(1f, At(0, "is_hot_item"));
        Assert.Equal(0f, At(1, "is_hot_item"));
        Assert.Equal(1f, At(1, "item_nsfw"));
        Assert.Equal(0.75f, At(2, "item_engagement_score"));
        Assert.Equal(2f, At(0, "user_avg_dwell_time"));
        Assert.Equal(1f, At(2, "device_tablet"));
        Assert.Equal(0f, At(2, "device_mobile"));
        Assert.Equal(1f, At(0, "time_of_day_sin"), 5); // 06:00
        Assert.Equal(1f, At(0, "language_match"));
        Assert.Equal(0f, At(1, "language_match"));
        Assert.Equal(1f, At(0, "region_match"));
        Assert.Equal(1f, At(0, "friend_post"));
        Assert.Equal(0f, At(1, "friend_post"));
        Assert.Equal(1f, At(1, "follows_author"));
        Assert.Equal(1f, At(2, "same_group"));
        Assert.Equal(1f, At(1, "source_popular"));
        Assert.Equal(1f, At(1, "source_ann"));
        Assert.Equal(1f, At(2, "source_fresh"));
        Assert.Equal(0f, At(2, "source_ann"));
    }

    [Fact]
    public void A_schema_chooses_and_orders_the_columns()
    {
        var full = FeatureSchema.Default;
        var fullRows = Assemble(full);
        var schema = FeatureSchema.FromNames(["friend_post", "ann_similarity", "item_ctr"]);

        var rows = Assemble(schema);

        Assert.Equal(9, rows.Length);
        for (var row = 0; row < 3; row++)
        {
            Assert.Equal(fullRows[(row * full.Count) + full.IndexOf("friend_post")], rows[row * 3]);
            Assert.Equal(fullRows[(row * full.Count) + full.IndexOf("ann_similarity")], rows[(row * 3) + 1]);
            Assert.Equal(fullRows[(row * full.Count) + full.IndexOf("item_ctr")], rows[(row * 3) + 2]);
        }
    }

    [Fact]
    public void Unknown_or_repeated_feature_names_are_refused_by_name()
    {
        var unknown = Assert.Throws<ArgumentException>(() => FeatureSchema.FromNames(["ann_similarity", "shoe_size"]));
        Assert.Contains("shoe_size", unknown.Message, StringComparison.Ordinal);
        var repeated = Assert.Throws<ArgumentException>(() => FeatureSchema.FromNames(["item_ctr", "item_ctr"]));
        Assert.Contains("item_ctr", repeated.Message, StringComparison.Ordinal);
    }
}
