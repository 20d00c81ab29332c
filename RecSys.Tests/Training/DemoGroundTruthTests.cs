using System.Numerics.Tensors;
using RecSys.Training;

namespace RecSys.Tests.Training;

public class DemoGroundTruthTests
{
    private sealed class Fixed(string name, int items, Action<int, Span<float>> score) : IItemScorer
    {
        public string Name => name;
        public int ItemCount => items;
        public void Score(int user, Span<float> scores) => score(user, scores);
    }

    [Fact]
    public void Taste_aware_scores_approach_the_ideal_and_random_scores_stay_near_zero()
    {
        var world = TestWorld.Small;
        var known = Splits.Full(DatasetReaders.FromDemoWorld(world));
        var users = Enumerable.Range(0, 100).ToArray();
        var d = world.Dimensions;
        var taste = new Fixed("taste", world.Items.Count, (u, s) =>
        {
            for (var i = 0; i < s.Length; i++) s[i] = (3 * TensorPrimitives.Dot(world.UserTastes.AsSpan(u * d, d), world.TrueItemVectors.AsSpan(i * d, d))) + (0.8f * world.ItemQuality[i]);
        });
        var random = new Fixed("random", world.Items.Count, (u, s) =>
        {
            var rng = new Random(u);
            for (var i = 0; i < s.Length; i++) s[i] = (float)rng.NextDouble();
        });
        var good = DemoGroundTruth.Evaluate(world, known, taste, users);
        var bad = DemoGroundTruth.Evaluate(world, known, random, users);
        Assert.True(good.NormalizedUtility > 0.7, $"taste-aware: {good.NormalizedUtility}");
        Assert.True(good.OverlapAtK > 0.2, $"taste-aware overlap: {good.OverlapAtK}");
        Assert.InRange(bad.NormalizedUtility, -0.15, 0.15);
        Assert.True(bad.OverlapAtK < 0.05);
    }
}
