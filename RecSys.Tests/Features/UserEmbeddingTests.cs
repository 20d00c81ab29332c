using RecSys.Features;
using RecSys.Retrieval;

namespace RecSys.Tests.Features;

public class UserEmbeddingTests
{
    [Fact]
    public void The_query_vector_is_the_normalised_mean_of_the_most_recent_items()
    {
        var embeddings = new ItemEmbeddings("t", 2, [1, 0, 0, 1, -1, 0]);
        var query = new float[2];

        Assert.True(UserEmbedding.FoldIn(embeddings, [0, 1, 2], maxItems: 2, query));

        // Mean of (1,0) and (0,1), normalised; item 2 is beyond maxItems.
        Assert.Equal(1 / MathF.Sqrt(2), query[0], 5);
        Assert.Equal(1 / MathF.Sqrt(2), query[1], 5);
    }

    [Fact]
    public void No_usable_history_gives_no_vector()
    {
        var embeddings = new ItemEmbeddings("t", 2, [1, 0, -1, 0]);
        Assert.False(UserEmbedding.FoldIn(embeddings, [], 10, new float[2]));
        Assert.False(UserEmbedding.FoldIn(embeddings, [7], 10, new float[2])); // unknown item
        Assert.False(UserEmbedding.FoldIn(embeddings, [0, 1], 10, new float[2])); // cancels out to zero
    }
}
