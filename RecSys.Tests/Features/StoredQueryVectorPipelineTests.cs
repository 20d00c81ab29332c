using System.Numerics.Tensors;
using Microsoft.Extensions.DependencyInjection;
using RecSys.Events;
using RecSys.Features;
using RecSys.Pipeline;
using RecSys.Retrieval;

namespace RecSys.Tests.Features;

/// <summary>The funnel's stage 1 serves the store's query vector when it matches, and folds in otherwise.</summary>
public class StoredQueryVectorPipelineTests
{
    /// <summary>The real in-memory store, with the stored vector of every user replaced by one the test chooses.</summary>
    private sealed class PlantedVector(IFeatureStore inner, Func<UserOnlineState, UserOnlineState> plant) : IFeatureStore
    {
        public bool IsLoaded => inner.IsLoaded;
        public async ValueTask<UserOnlineState> GetUserStateAsync(int userIndex, CancellationToken cancellationToken) => plant(await inner.GetUserStateAsync(userIndex, cancellationToken));
        public ValueTask GetItemStatsAsync(ReadOnlyMemory<int> items, Memory<ItemStats> destination, CancellationToken cancellationToken) => inner.GetItemStatsAsync(items, destination, cancellationToken);
        public ValueTask<int> GetTrendingAsync(byte languageCode, Memory<int> destination, CancellationToken cancellationToken) => inner.GetTrendingAsync(languageCode, destination, cancellationToken);
        public ValueTask<int> GetTrendingInRegionAsync(byte regionCode, Memory<int> destination, CancellationToken cancellationToken) => inner.GetTrendingInRegionAsync(regionCode, destination, cancellationToken);
        public ValueTask GetItemWindowCountsAsync(ReadOnlyMemory<int> items, TimeSpan window, Memory<ItemWindowCounts> destination, CancellationToken cancellationToken) => inner.GetItemWindowCountsAsync(items, window, destination, cancellationToken);
        public ValueTask RefreshQueryVectorsAsync(ReadOnlyMemory<int> users, ItemEmbeddings embeddings, CancellationToken cancellationToken) => inner.RefreshQueryVectorsAsync(users, embeddings, cancellationToken);
        public ValueTask MarkSeenAsync(int userIndex, ReadOnlyMemory<int> items, long unixSeconds, CancellationToken cancellationToken) => inner.MarkSeenAsync(userIndex, items, unixSeconds, cancellationToken);
        public ValueTask ApplyAsync(ReadOnlyMemory<Interaction> interactions, CancellationToken cancellationToken) => inner.ApplyAsync(interactions, cancellationToken);
        public void MarkLoaded(int userCount, int itemCount) => inner.MarkLoaded(userCount, itemCount);
    }

    private static async Task<(RecommendationResult Result, float[] FoldedIn, ItemEmbeddings Embeddings)> RecommendAsync(Func<float[], string, UserOnlineState, UserOnlineState> plant)
    {
        var world = TestWorld.Small;
        var user = world.Users[5];
        float[] foldedIn = [];
        using var services = await TestWorld.CreateServicesAsync(world, s =>
        {
            var registered = s.Single(d => d.ServiceType == typeof(IFeatureStore));
            s.Remove(registered);
            s.AddSingleton(registered.ImplementationType!);
            s.AddSingleton<IFeatureStore>(sp => new PlantedVector((IFeatureStore)sp.GetRequiredService(registered.ImplementationType!), state =>
            {
                var embeddings = sp.GetRequiredService<ItemEmbeddingStore>().Current!;
                foldedIn = new float[embeddings.Dimensions];
                Assert.True(UserEmbedding.FoldIn(embeddings, state.RecentItems, 20, foldedIn));
                return plant(foldedIn, embeddings.Version, state);
            }));
        }, new Dictionary<string, string?>
        {
            // Only the query vector's source, and time enough on a loaded machine: every item answered is an ANN hit.
            ["Pipeline:DeadlineMilliseconds"] = "10000",
            ["Retrieval:PopularCount"] = "0", ["Retrieval:ItemToItemCount"] = "0", ["Retrieval:SocialCount"] = "0",
            ["Retrieval:TrendingCount"] = "0", ["Retrieval:FreshCount"] = "0",
        });
        var result = await services.GetRequiredService<RecommendationPipeline>().RecommendAsync(new RecommendationRequest("t", user.Id, 20), default);
        return (result, foldedIn, services.GetRequiredService<ItemEmbeddingStore>().Current!);
    }

    private static UserOnlineState With(UserOnlineState state, float[] vector, string version) => new(state.RecentItems, state.InteractedItems, state.LastEventUnixSeconds, state.SeenItems)
    {
        StoredQueryVector = vector, StoredQueryVectorVersion = QueryVectorTag.Of(version), StoredQueryVectorLastEvent = state.LastEventUnixSeconds,
    };

    private static void AssertRetrievalScoresAgainst(RecommendationResult result, ItemEmbeddings embeddings, float[] query)
    {
        Assert.Empty(result.Degraded);
        var ann = result.Items.Where(i => i.Sources.HasFlag(CandidateSource.Ann)).ToArray();
        Assert.True(ann.Length >= 10, $"{ann.Length} of {result.Items.Count} items came from ANN");
        Assert.All(ann, i => Assert.Equal(TensorPrimitives.Dot(embeddings.Vector(i.Item.Index), query), i.RetrievalScore, 4));
    }

    [Fact]
    public async Task A_matching_stored_vector_is_the_query_and_a_mismatched_one_is_folded_in_again()
    {
        // A planted vector unlike the fold-in (the opposite direction): retrieval follows it.
        float[]? planted = null;
        var (used, _, embeddings) = await RecommendAsync((folded, version, state) => With(state, planted = folded.Select(x => -x).ToArray(), version));
        AssertRetrievalScoresAgainst(used, embeddings, planted!);

        // The same vector tagged with other item vectors' version: ignored, the request folds in.
        var (ignored, folded, embeddings2) = await RecommendAsync((f, version, state) => With(state, f.Select(x => -x).ToArray(), version + "-old"));
        AssertRetrievalScoresAgainst(ignored, embeddings2, folded);
    }
}
