using Dapper;
using Npgsql;
using RecSys.Api.Cli;
using RecSys.Demo;
using RecSys.Features.Redis.Resp;

namespace RecSys.Tests.Stores;

public sealed class LoadVerbTests
{
    [Fact]
    public async Task Load_fills_postgres_and_redis_and_loading_again_changes_nothing()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: false);
        var prefix = TestServers.UniquePrefix();
        string[] args = ["load", "--postgres", db.ConnectionString, "--redis", TestServers.Redis + ",commandTimeout=30000", "--redis-prefix", prefix, "--items", "500", "--users", "60"];
        var demo = new DemoOptions { Items = 500, Users = 60 };
        var world = DemoWorldGenerator.Generate(demo);

        Assert.Equal(0, await Verbs.Build().Parse(args).InvokeAsync());
        await using var redis = new RedisClient(RedisEndpoint.Parse(TestServers.Redis));
        var counters = await redis.HGetAllAsync(prefix + "i:7", default);
        Assert.Equal("500", (await redis.HMGetAsync(prefix + "meta", ["loaded_items"], default))[0]);
        Assert.Equal(world.Interactions.Count(e => e.ItemIndex == 7 && e.Type == RecSys.Events.EventType.Impression).ToString(System.Globalization.CultureInfo.InvariantCulture), counters["imp"]);

        Assert.Equal(0, await Verbs.Build().Parse(args).InvokeAsync());
        Assert.Equal(counters, await redis.HGetAllAsync(prefix + "i:7", default)); // replayed onto a cleared prefix, not added
        await using var connection = new NpgsqlConnection(db.ConnectionString);
        Assert.Equal(500, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM items"));
        Assert.Equal(60, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM users"));
        Assert.Equal(world.Edges.Select(e => (e.From, e.To, e.Kind)).Distinct().Count(), await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM social_edges"));
        Assert.Equal(world.Interactions.Length, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM event_log"));
        Assert.StartsWith("demo-s42-i500-u60-", await connection.ExecuteScalarAsync<string>("SELECT value FROM catalog_meta WHERE key = 'version'"), StringComparison.Ordinal);
    }
}
