using RecSys.Events;
using RecSys.Training;

namespace RecSys.Tests.Training;

public class SplitTests
{
    private static InteractionDataset Dataset(params (string User, string Item, long Time, EventType Type)[] rows)
    {
        var users = rows.Select(r => r.User).Distinct().ToList();
        var items = rows.Select(r => r.Item).Distinct().ToList();
        var events = rows.OrderBy(r => r.Time).Select(r => new Interaction(users.IndexOf(r.User), items.IndexOf(r.Item), r.Type, r.Time, 0)).ToArray();
        return new InteractionDataset("test", users, items, events);
    }

    [Fact]
    public void Pairs_sum_event_weights_ignore_impressions_and_drop_hidden_items()
    {
        var d = Dataset(("u", "a", 1, EventType.Impression), ("u", "a", 2, EventType.Click), ("u", "a", 3, EventType.Like),
            ("u", "b", 4, EventType.Click), ("u", "b", 5, EventType.Hide), ("u", "c", 6, EventType.Impression));
        var pairs = Splits.Pairs(d);
        var only = Assert.Single(pairs);
        Assert.Equal("a", d.ItemIds[only.Item]);
        Assert.Equal(2f, only.Strength); // click 1 + like 1
        Assert.Equal(2, only.FirstUnixSeconds);
    }

    [Fact]
    public void Per_user_split_holds_out_each_users_latest_items()
    {
        // u1 has 10 items at times 1..10: the last 2 (20%) are held out. u2 has one item: trained only.
        var rows = Enumerable.Range(1, 10).Select(t => ("u1", $"i{t}", (long)t, EventType.Click)).Append(("u2", "i1", 3L, EventType.Click)).ToArray();
        var d = Dataset(rows);
        var split = Splits.PerUserTemporal(d, 0.2);
        d.TryGetUserIndex("u1", out var u1);
        d.TryGetUserIndex("u2", out var u2);
        Assert.Equal(["i9", "i10"], split.TestItems[u1].Select(i => d.ItemIds[i]));
        Assert.Equal(8, split.Train.RowCount(u1));
        Assert.Empty(split.TestItems[u2]);
        Assert.Equal(1, split.Train.RowCount(u2));
        Assert.DoesNotContain(split.Train.RowIndices(u1).ToArray(), i => split.TestItems[u1].Contains(i));
    }

    [Fact]
    public void Global_cut_trains_on_the_past_and_tests_users_who_have_a_past()
    {
        var d = Dataset(("u1", "a", 1, EventType.Click), ("u1", "b", 10, EventType.Click), ("u2", "c", 11, EventType.Click), ("u2", "a", 12, EventType.Click));
        var split = Splits.GlobalTimeCut(d, 10);
        d.TryGetUserIndex("u1", out var u1);
        d.TryGetUserIndex("u2", out var u2);
        Assert.Equal(["b"], split.TestItems[u1].Select(i => d.ItemIds[i]));
        Assert.Empty(split.TestItems[u2]); // no training history to fold in
        Assert.Equal(1, split.Train.NonZeros);
    }
}
