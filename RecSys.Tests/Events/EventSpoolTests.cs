using System.Text;
using RecSys.Events.Kafka;

namespace RecSys.Tests.Events;

public sealed class EventSpoolTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "recsys-spool-test-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    private static SpoolRecord Record(int i) => new(i % 2 == 0 ? "events" : "impressions", $"u_{i}", Encoding.UTF8.GetBytes($"{{\"n\":{i}}}"));

    [Fact]
    public void Records_come_back_in_order_and_the_replay_position_survives_a_restart()
    {
        using (var spool = new EventSpool(_directory))
        {
            spool.Append([Record(0), Record(1)]);
            spool.Append([Record(2)]);
            Assert.Equal(3, spool.Backlog);
            var (records, end) = spool.Peek(2);
            Assert.Equal([Record(0).Key, Record(1).Key], records.Select(r => r.Key));
            Assert.Equal("impressions", records[1].Topic);
            Assert.Equal(Record(1).Value, records[1].Value);
            spool.Advance(end, records.Count);
            Assert.Equal(1, spool.Backlog);
        }
        using (var reopened = new EventSpool(_directory))
        {
            Assert.Equal(1, reopened.Backlog);
            var (records, end) = reopened.Peek(10);
            Assert.Equal("u_2", Assert.Single(records).Key);
            reopened.Advance(end, records.Count);
            Assert.Equal(0, reopened.Backlog);
            Assert.Equal(0, new FileInfo(reopened.Path).Length); // drained: truncated
        }
    }

    [Fact]
    public void A_torn_last_record_is_cut_off_and_the_whole_ones_are_kept()
    {
        string path;
        using (var spool = new EventSpool(_directory))
        {
            spool.Append([Record(0), Record(1)]);
            path = spool.Path;
        }
        var whole = new FileInfo(path).Length;
        using (var file = new FileStream(path, FileMode.Append))
        {
            file.Write([200, 0, 0, 0, 1, 2, 3]); // a length prefix promising 200 bytes, then a crash
        }

        using var reopened = new EventSpool(_directory);

        Assert.Equal(2, reopened.Backlog);
        Assert.Equal(whole, new FileInfo(path).Length);
        reopened.Append([Record(2)]);
        Assert.Equal(["u_0", "u_1", "u_2"], reopened.Peek(10).Records.Select(r => r.Key));
    }
}
