using System.Diagnostics;
using System.Text;
using RecSys.Features.Redis.Resp;

namespace RecSys.Tests.Stores;

public sealed class RespClientTests : IAsyncLifetime
{
    private readonly string _p = TestServers.UniquePrefix();
    private RedisClient _redis = null!;

    public Task InitializeAsync()
    {
        _redis = new RedisClient(RedisEndpoint.Parse(TestServers.Redis));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    private string K(string name) => _p + name;

    [Fact]
    public void Connection_strings_parse_and_bad_ones_are_refused_by_name()
    {
        var e = RedisEndpoint.Parse("cache.local:6380,password=s3cret,db=2,commandTimeout=50");
        Assert.Equal(("cache.local", 6380, "s3cret", 2, 50.0), (e.Host, e.Port, e.Password, e.Database, e.CommandTimeout.TotalMilliseconds));
        Assert.Equal(6379, RedisEndpoint.Parse("localhost").Port);
        Assert.Equal("/run/redis.sock", RedisEndpoint.Parse("unix:/run/redis.sock").UnixSocketPath);
        Assert.Contains("port", Assert.Throws<FormatException>(() => RedisEndpoint.Parse("host:notaport")).Message, StringComparison.Ordinal);
        var unknown = Assert.Throws<FormatException>(() => RedisEndpoint.Parse("host:1,pasword=x")).Message;
        Assert.Contains("pasword", unknown, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_command_the_store_uses_round_trips()
    {
        Assert.Equal("PONG", await _redis.PingAsync(default));

        await _redis.SetAsync(K("s"), "héllo", null, default);
        Assert.Equal("héllo", await _redis.GetAsync(K("s"), default));
        Assert.Null(await _redis.GetAsync(K("missing"), default));
        var binary = new byte[] { 0, 13, 10, 255, 42 }; // CR LF inside a bulk string must survive
        await _redis.SetAsync(K("b"), binary, TimeSpan.FromSeconds(100), default);
        Assert.Equal(binary, await _redis.GetBytesAsync(K("b"), default));
        using (var ttl = await _redis.CommandAsync(default, "TTL", K("b"))) Assert.InRange(ttl[0].AsInt64(), 90, 100);
        Assert.Equal(new string?[] { "héllo", null }, await _redis.MGetAsync([K("s"), K("missing")], default));

        Assert.Equal(2, await _redis.HSetAsync(K("h"), [new("a", "1"), new("b", "2")], default));
        Assert.Equal(11, await _redis.HIncrByAsync(K("h"), "a", 10, default));
        Assert.Equal(-5, await _redis.HIncrByAsync(K("h"), "c", -5, default));
        Assert.Equal(new string?[] { "11", null, "2" }, await _redis.HMGetAsync(K("h"), ["a", "zz", "b"], default));
        Assert.Equal(new Dictionary<string, string> { ["a"] = "11", ["b"] = "2", ["c"] = "-5" }, await _redis.HGetAllAsync(K("h"), default));

        Assert.Equal(3, await _redis.LPushAsync(K("l"), ["1", "2", "3"], default));
        Assert.Equal(4, await _redis.LPushAsync(K("l"), ["4"], default));
        await _redis.LTrimAsync(K("l"), 0, 2, default);
        Assert.Equal(new string?[] { "4", "3", "2" }, await _redis.LRangeAsync(K("l"), 0, -1, default));

        Assert.Equal(1.5, await _redis.ZIncrByAsync(K("z"), 1.5, "x", default));
        Assert.Equal(4.25, await _redis.ZIncrByAsync(K("z"), 2.75, "x", default));
        await _redis.ZIncrByAsync(K("z"), 1e-3, "y", default);
        await _redis.ZIncrByAsync(K("z"), 9, "w", default);
        Assert.Equal([("w", 9.0), ("x", 4.25)], await _redis.ZRevRangeWithScoresAsync(K("z"), 0, 1, default));

        Assert.Equal(2, await _redis.SAddAsync(K("set"), ["7", "8", "7"], default));
        Assert.True(await _redis.SIsMemberAsync(K("set"), "8", default));
        Assert.False(await _redis.SIsMemberAsync(K("set"), "9", default));
        Assert.Equal(["7", "8"], (await _redis.SMembersAsync(K("set"), default)).Order());

        Assert.True(await _redis.ExpireAsync(K("set"), TimeSpan.FromSeconds(30), default));
        Assert.False(await _redis.ExpireAsync(K("nothing"), TimeSpan.FromSeconds(30), default));
        Assert.Equal(2, await _redis.DelAsync([K("set"), K("s"), K("nothing")], default));
        Assert.Null(await _redis.GetAsync(K("s"), default));
    }

    [Fact]
    public async Task Error_replies_throw_with_the_servers_message_and_the_connection_stays_usable()
    {
        await _redis.SetAsync(K("str"), "x", null, default);
        var ex = await Assert.ThrowsAsync<RedisServerException>(() => _redis.HIncrByAsync(K("str"), "f", 1, default));
        Assert.Contains("WRONGTYPE", ex.Message, StringComparison.Ordinal);
        var unknown = await Assert.ThrowsAsync<RedisServerException>(() => _redis.CommandAsync(default, "NOSUCHCOMMAND").ContinueWith(t => t.Result[0].AsString(), TaskScheduler.Default));
        Assert.Contains("unknown command", unknown.Message, StringComparison.OrdinalIgnoreCase);

        // In a batch, one failing command does not disturb the replies around it.
        using var batch = new RespBatch();
        batch.Command("SET"u8, 3).Arg(K("a")).Arg("1"u8);
        batch.Command("INCR"u8, 2).Arg(K("str"));
        batch.Command("GET"u8, 2).Arg(K("a"));
        using var replies = await _redis.ExecuteAsync(batch, default);
        Assert.Equal("OK", replies[0].AsString());
        Assert.True(replies[1].IsError);
        Assert.Throws<RedisServerException>(() => replies[1].AsInt64());
        Assert.Equal(1, replies[2].AsInt64());
        Assert.Equal("PONG", await _redis.PingAsync(default));
    }

    [Fact]
    public void A_batch_refuses_a_command_with_missing_or_extra_arguments()
    {
        using var batch = new RespBatch();
        batch.Command("GET"u8, 2);
        Assert.Throws<InvalidOperationException>(() => batch.Command("PING"u8, 1));
        Assert.Throws<InvalidOperationException>(() => batch.EnsureComplete());
        batch.Arg("k"u8);
        Assert.Throws<InvalidOperationException>(() => batch.Arg("extra"u8));
    }

    [Fact]
    public async Task Concurrent_pipelined_batches_get_their_own_replies_in_order()
    {
        // 32 callers x 50 batches of 1..40 commands over one connection; every reply must belong to its command.
        var before = _redis.BatchesSent;
        await Parallel.ForAsync(0, 32, async (caller, ct) =>
        {
            for (var round = 0; round < 50; round++)
            {
                var n = 1 + ((caller * 7) + round) % 40;
                using var batch = new RespBatch();
                for (var i = 0; i < n; i++)
                {
                    batch.Command("SET"u8, 3).Arg(K($"c{caller}:{i}")).Arg($"{caller}/{round}/{i}");
                    batch.Command("GET"u8, 2).Arg(K($"c{caller}:{i}"));
                }
                batch.Command("ECHO"u8, 2).Arg(new string('x', round * 100)); // replies of varied sizes, split across reads
                using var replies = await _redis.ExecuteAsync(batch, ct);
                Assert.Equal((2 * n) + 1, replies.Count);
                for (var i = 0; i < n; i++) Assert.Equal($"{caller}/{round}/{i}", replies[(2 * i) + 1].AsString());
                Assert.Equal(round * 100, replies[2 * n].Span.Length);
            }
        });
        Assert.Equal(32 * 50, _redis.BatchesSent - before);
    }

    [Fact]
    public async Task Large_replies_split_across_many_reads_are_reassembled()
    {
        var value = new byte[3 * 1024 * 1024];
        new Random(5).NextBytes(value);
        await _redis.SetAsync(K("big"), value, null, default);
        using var batch = new RespBatch();
        for (var i = 0; i < 3; i++) batch.Command("GET"u8, 2).Arg(K("big"));
        using var replies = await _redis.ExecuteAsync(batch, default);
        for (var i = 0; i < 3; i++) Assert.True(replies[i].Span.SequenceEqual(value));
        await _redis.DelAsync([K("big")], default);
    }

    [Fact]
    public async Task A_cancelled_caller_does_not_shift_the_replies_of_later_callers()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _redis.CommandAsync(cts.Token, "ECHO", "abandoned"));
        await _redis.SetAsync(K("after"), "mine", null, default);
        Assert.Equal("mine", await _redis.GetAsync(K("after"), default));
    }
}

/// <summary>Stops, restarts and freezes a Redis of the test's own.</summary>
public sealed class RespClientFailureTests
{
    [Fact]
    public async Task After_the_server_restarts_the_client_reconnects_by_itself()
    {
        using var server = new PrivateRedis();
        await using var redis = new RedisClient(RedisEndpoint.Parse(server.Address + ",connectTimeout=500"));
        await redis.SetAsync("k", "before", null, default);

        server.Kill();
        var down = await Assert.ThrowsAnyAsync<RedisException>(() => redis.GetAsync("k", default));
        Assert.Contains(server.Address, down.Message, StringComparison.Ordinal);

        server.Start();
        var watch = Stopwatch.StartNew();
        string? answer = null;
        while (answer is null && watch.Elapsed < TimeSpan.FromSeconds(10))
        {
            try
            {
                answer = await redis.PingAsync(default);
            }
            catch (RedisConnectionException)
            {
                await Task.Delay(50);
            }
        }
        Assert.Equal("PONG", answer);
        Assert.Null(await redis.GetAsync("k", default)); // a fresh server (no persistence): the client talks to the new one
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(6), $"reconnect took {watch.Elapsed}"); // back-off is capped at 2 s
    }

    [Fact]
    public async Task A_server_that_stops_answering_gives_a_clear_timeout_within_the_command_timeout()
    {
        using var server = new PrivateRedis();
        await using var redis = new RedisClient(RedisEndpoint.Parse(server.Address + ",commandTimeout=200"));
        Assert.Equal("PONG", await redis.PingAsync(default));

        server.Freeze();
        try
        {
            var watch = Stopwatch.StartNew();
            var ex = await Assert.ThrowsAsync<RedisTimeoutException>(() => redis.PingAsync(default));
            Assert.InRange(watch.ElapsedMilliseconds, 150, 3000);
            Assert.Contains("200 ms", ex.Message, StringComparison.Ordinal);
            Assert.Contains(server.Address, ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            server.Thaw();
        }
        // The reset connection is replaced on the next call.
        Assert.Equal("PONG", await redis.PingAsync(default));
    }

    [Fact]
    public async Task Nothing_listening_fails_fast_with_the_address_then_backs_off()
    {
        using var server = new PrivateRedis();
        var address = server.Address;
        server.Kill();
        await using var redis = new RedisClient(RedisEndpoint.Parse(address));
        var first = await Assert.ThrowsAsync<RedisConnectionException>(() => redis.PingAsync(default));
        Assert.Contains(address, first.Message, StringComparison.Ordinal);
        var watch = Stopwatch.StartNew();
        var second = await Assert.ThrowsAsync<RedisConnectionException>(() => redis.PingAsync(default));
        Assert.Contains("next connection attempt", second.Message, StringComparison.Ordinal);
        Assert.True(watch.ElapsedMilliseconds < 1000, "during back-off a call fails at once");
    }

    [Fact]
    public async Task Auth_and_database_selection_are_sent_on_connect()
    {
        using var server = new PrivateRedis();
        await using (var admin = new RedisClient(RedisEndpoint.Parse(server.Address)))
        {
            using var set = await admin.CommandAsync(default, "CONFIG", "SET", "requirepass", "pw1");
            set[0].ThrowIfError();
        }
        await using var wrong = new RedisClient(RedisEndpoint.Parse(server.Address + ",password=nope"));
        var refused = await Assert.ThrowsAsync<RedisConnectionException>(() => wrong.PingAsync(default));
        Assert.Contains("AUTH", refused.Message, StringComparison.Ordinal);

        await using var db3 = new RedisClient(RedisEndpoint.Parse(server.Address + ",password=pw1,db=3"));
        await db3.SetAsync("where", "three", null, default);
        await using var db0 = new RedisClient(RedisEndpoint.Parse(server.Address + ",password=pw1"));
        Assert.Null(await db0.GetAsync("where", default));
        Assert.Equal("three", await db3.GetAsync("where", default));
        _ = Encoding.UTF8;
    }
}
