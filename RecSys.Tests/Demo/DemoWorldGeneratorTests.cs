using System.Numerics.Tensors;
using RecSys.Catalog;
using RecSys.Demo;
using RecSys.Events;

namespace RecSys.Tests.Demo;

public class DemoWorldGeneratorTests
{
    [Fact]
    public void The_same_seed_gives_the_same_world_and_another_seed_another()
    {
        var a = DemoWorldGenerator.Generate(TestWorld.SmallOptions(seed: 11));
        var b = DemoWorldGenerator.Generate(TestWorld.SmallOptions(seed: 11));
        var c = DemoWorldGenerator.Generate(TestWorld.SmallOptions(seed: 12));

        Assert.Equal(a.Items, b.Items);
        Assert.Equal(a.Users, b.Users);
        Assert.Equal(a.Edges, b.Edges);
        Assert.Equal(a.Interactions, b.Interactions);
        Assert.Equal(a.ItemVectors, b.ItemVectors);
        Assert.NotEqual(a.Interactions.Length, c.Interactions.Length);
    }

    [Fact]
    public void The_log_is_ordered_consistent_and_respects_the_users()
    {
        var w = TestWorld.Small;
        Assert.Equal(3000, w.Items.Count);
        Assert.Equal(400, w.Users.Count);
        Assert.True(w.Interactions.Length > 400 * 6 * 10, $"only {w.Interactions.Length} events");
        var blocked = w.Edges.Where(e => e.Kind == SocialEdgeKind.Block).Select(e => (e.From, e.To)).ToHashSet();

        for (var i = 0; i < w.Interactions.Length; i++)
        {
            var e = w.Interactions[i];
            if (i > 0) Assert.True(w.Interactions[i - 1].UnixSeconds <= e.UnixSeconds, "log must be ordered by time");
            var item = w.Items[e.ItemIndex];
            Assert.True(item.CreatedAt.ToUnixTimeSeconds() <= e.UnixSeconds, "no event before the item existed");
            Assert.True(e.UnixSeconds <= w.Anchor.ToUnixTimeSeconds());
            Assert.False(item.IsNsfw && !w.Users[e.UserIndex].AllowNsfw, "NSFW shown to a user who disallows it");
            Assert.DoesNotContain((e.UserIndex, item.AuthorIndex), blocked);
        }
        Assert.Contains(w.Items, i => i.IsNsfw);
        Assert.Contains(w.Items, i => w.Anchor - i.CreatedAt < TimeSpan.FromDays(1));
    }

    [Fact]
    public void Clicks_carry_the_hidden_taste_signal()
    {
        // Clicked items must be closer to the user's hidden taste than shown-but-skipped ones, or there is nothing to learn.
        var w = TestWorld.Small;
        var d = w.Dimensions;
        var clicked = new HashSet<(int, int)>(w.Interactions.Where(e => e.Type == EventType.Click).Select(e => (e.UserIndex, e.ItemIndex)));
        double clickedAffinity = 0, skippedAffinity = 0;
        int clickedCount = 0, skippedCount = 0;
        foreach (var e in w.Interactions.Where(e => e.Type == EventType.Impression))
        {
            var affinity = TensorPrimitives.Dot(w.UserTastes.AsSpan(e.UserIndex * d, d), w.TrueItemVectors.AsSpan(e.ItemIndex * d, d));
            if (clicked.Contains((e.UserIndex, e.ItemIndex))) { clickedAffinity += affinity; clickedCount++; }
            else { skippedAffinity += affinity; skippedCount++; }
        }
        Assert.True(clickedCount > 1000, $"only {clickedCount} clicks");
        Assert.True(clickedAffinity / clickedCount > (skippedAffinity / skippedCount) + 0.1,
            $"clicked {clickedAffinity / clickedCount:0.000} vs skipped {skippedAffinity / skippedCount:0.000}");

        // And top positions are clicked more often (position bias).
        var impressions = w.Interactions.Where(e => e.Type == EventType.Impression).ToArray();
        double Ctr(int position) => impressions.Where(e => (int)e.Value == position).Average(e => clicked.Contains((e.UserIndex, e.ItemIndex)) ? 1.0 : 0.0);
        Assert.True(Ctr(0) > Ctr(9));
    }

    [Fact]
    public async Task Csv_files_are_written_with_headers_and_one_row_per_record()
    {
        var w = DemoWorldGenerator.Generate(new DemoOptions { Items = 50, Users = 20, SessionsPerUser = 2, Dimensions = 8, Categories = 4, Anchor = TestWorld.Anchor });
        var dir = Path.Combine(Path.GetTempPath(), "recsys-demo-" + Guid.NewGuid().ToString("N"));
        try
        {
            await DemoWorldFiles.WriteAsync(w, dir, default);
            var interactions = await File.ReadAllLinesAsync(Path.Combine(dir, "interactions.csv"));
            Assert.Equal("user_id,item_id,timestamp,event_type,value", interactions[0]);
            Assert.Equal(w.Interactions.Length + 1, interactions.Length);
            Assert.Equal(51, (await File.ReadAllLinesAsync(Path.Combine(dir, "items.csv"))).Length);
            Assert.Equal(21, (await File.ReadAllLinesAsync(Path.Combine(dir, "users.csv"))).Length);
            Assert.StartsWith("u_", interactions[1], StringComparison.Ordinal);
            Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
