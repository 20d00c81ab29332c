using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RecSys.Catalog;
using RecSys.Events;
using RecSys.Events.Bus;
using RecSys.Events.Consumer;
using RecSys.Events.Kafka;
using RecSys.Features;

namespace RecSys.Tests.Events;

/// <summary>The Kafka bus against librdkafka's mock cluster: committed offsets across a consumer restart, and the spool.</summary>
public sealed class KafkaBusTests : IDisposable
{
    private readonly MockKafkaCluster _cluster = new();
    private readonly string _spool = Path.Combine(Path.GetTempPath(), "recsys-spool-" + Guid.NewGuid().ToString("N"));
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..8];

    public void Dispose()
    {
        _cluster.Dispose();
        if (Directory.Exists(_spool)) Directory.Delete(_spool, recursive: true);
    }

    /// <param name="deliveryTimeoutMilliseconds">Short for the spool tests (an unreachable broker must spool quickly); long
    /// otherwise, so that a slow, loaded machine does not spool events that a test expects on the topic.</param>
    private Dictionary<string, string?> Settings(string bootstrap, int deliveryTimeoutMilliseconds = 1000) => new()
    {
        ["Events:Bus"] = "kafka",
        ["Events:Kafka:BootstrapServers"] = bootstrap,
        ["Events:Kafka:EventsTopic"] = "events-" + _suffix,
        ["Events:Kafka:ImpressionsTopic"] = "impressions-" + _suffix,
        ["Events:Kafka:ConsumerGroup"] = "group-" + _suffix,
        ["Events:Kafka:SpoolDirectory"] = _spool,
        ["Events:Kafka:DeliveryTimeoutMilliseconds"] = deliveryTimeoutMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Events:Kafka:SpoolRetryMilliseconds"] = "100",
        ["Events:Kafka:SessionTimeoutMilliseconds"] = "6000",
    };

    private static Task<ServiceProvider> ServicesAsync(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return TestWorld.CreateServicesAsync(TestWorld.Small, s => s.AddEvents(configuration), settings);
    }

    /// <summary>Clicks by one user (one key, so one partition, so one order) on one item, then a share of <paramref name="marker"/>.</summary>
    private static List<UserEvent> Clicks(string prefix, int count, string item, string? marker = null)
    {
        var at = TestWorld.Anchor.AddMinutes(-5);
        var events = Enumerable.Range(0, count).Select(i => new UserEvent($"{prefix}-{i}", "u_1", item, EventType.Click, null, null, at, null)).ToList();
        if (marker is not null) events.Add(new UserEvent($"{prefix}-marker", "u_1", marker, EventType.Share, null, null, at, null));
        return events;
    }

    private static async Task<ItemStats> StatsAsync(IServiceProvider services, string itemId)
    {
        Assert.True(services.GetRequiredService<ICatalog>().TryGetItem(itemId, out var item));
        var stats = new ItemStats[1];
        await services.GetRequiredService<IFeatureStore>().GetItemStatsAsync(new[] { item.Index }, stats, default);
        return stats[0];
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what, double seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for: {what}");
            await Task.Delay(25);
        }
    }

    private static KafkaEventConsumer Consumer(IServiceProvider services, EventApplier applier) =>
        new(applier, services.GetRequiredService<IOptions<EventsOptions>>(), NullLogger<KafkaEventConsumer>.Instance);

    [Fact]
    public async Task A_restarted_consumer_resumes_from_committed_offsets_without_double_counting()
    {
        await using var services = await ServicesAsync(Settings(_cluster.BootstrapServers, deliveryTimeoutMilliseconds: 20_000));
        var bus = services.GetRequiredService<IEventBus>();
        Assert.IsType<KafkaEventBus>(bus);
        var clicksBefore = (await StatsAsync(services, "i_7")).Clicks;
        var sharesBefore = (await StatsAsync(services, "i_8")).Shares;

        await bus.PublishAsync(Clicks("first", 40, "i_7", marker: "i_8"), default);
        Assert.Equal(0, ((KafkaEventBus)bus).Status.SpoolBacklog); // delivered to the topic, not spooled
        using (var stop = new CancellationTokenSource())
        {
            var first = Consumer(services, services.GetRequiredService<EventApplier>()).RunAsync(stop.Token);
            await EventuallyAsync(async () => (await StatsAsync(services, "i_8")).Shares == sharesBefore + 1, "the first consumer to apply the first batch");
            await stop.CancelAsync();
            await first;
        }
        Assert.Equal(clicksBefore + 40, (await StatsAsync(services, "i_7")).Clicks);

        // A new consumer in the same group, with an applier that remembers no event ids: only committed offsets keep it
        // from applying the first batch again.
        await bus.PublishAsync(Clicks("second", 25, "i_7", marker: "i_8"), default);
        var freshApplier = ActivatorUtilities.CreateInstance<EventApplier>(services);
        using (var stop = new CancellationTokenSource())
        {
            var second = Consumer(services, freshApplier).RunAsync(stop.Token);
            await EventuallyAsync(async () => (await StatsAsync(services, "i_8")).Shares == sharesBefore + 2, "the restarted consumer to apply the second batch");
            await stop.CancelAsync();
            await second;
        }
        Assert.Equal(clicksBefore + 65, (await StatsAsync(services, "i_7")).Clicks);
    }

    [Fact]
    public async Task Events_accepted_while_Kafka_is_unreachable_are_spooled_and_replayed_in_order_once()
    {
        using var gate = new TcpGate(_cluster.Port);
        await using var services = await ServicesAsync(Settings(gate.Address));
        var bus = (KafkaEventBus)services.GetRequiredService<IEventBus>();
        var clicksBefore = (await StatsAsync(services, "i_9")).Clicks;
        var sharesBefore = (await StatsAsync(services, "i_10")).Shares;

        var first = Clicks("down-a", 30, "i_9");
        var second = Clicks("down-b", 20, "i_9", marker: "i_10");
        await bus.PublishAsync(first, default);   // delivery times out: spooled
        await bus.PublishAsync(second, default);  // the spool has a backlog: spooled behind it
        Assert.Equal(51, bus.Status.SpoolBacklog);
        Assert.False(bus.Status.BrokerReachable);
        Assert.True(new FileInfo(Path.Combine(_spool, "events.spool")).Length > 0);
        var health = (await services.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["events"];
        Assert.Equal(HealthStatus.Degraded, health.Status);
        Assert.Equal(51L, health.Data["spoolBacklog"]);

        gate.Open();
        using var stop = new CancellationTokenSource();
        var replay = bus.RunReplayAsync(stop.Token);
        var consumer = Consumer(services, services.GetRequiredService<EventApplier>()).RunAsync(stop.Token);
        await EventuallyAsync(() => Task.FromResult(bus.Status.SpoolBacklog == 0), "the spool to drain");
        await EventuallyAsync(async () => (await StatsAsync(services, "i_10")).Shares == sharesBefore + 1, "the replayed events to be applied");
        Assert.Equal(clicksBefore + 50, (await StatsAsync(services, "i_9")).Clicks);
        Assert.True(bus.Status.BrokerReachable);
        Assert.Equal(0, new FileInfo(Path.Combine(_spool, "events.spool")).Length);
        await stop.CancelAsync();
        await Task.WhenAll(replay, consumer);

        // The topic holds every spooled event once, in the order they were accepted.
        var expected = first.Concat(second).Select(e => e.EventId).ToArray();
        Assert.Equal(expected, ReadTopic("events-" + _suffix, expected.Length).Select(e => e.EventId).ToArray());
    }

    [Fact]
    public async Task A_spool_left_by_a_previous_process_is_replayed_by_the_next()
    {
        using var gate = new TcpGate(_cluster.Port);
        var settings = Settings(gate.Address);
        await using (var before = await ServicesAsync(settings))
        {
            await before.GetRequiredService<IEventBus>().PublishAsync(Clicks("crash", 5, "i_11"), default);
            Assert.Equal(5, before.GetRequiredService<IEventBus>().Status.SpoolBacklog);
        }
        gate.Open();
        await using var after = await ServicesAsync(settings);
        var bus = (KafkaEventBus)after.GetRequiredService<IEventBus>();
        Assert.Equal(5, bus.Status.SpoolBacklog);
        using var stop = new CancellationTokenSource();
        var replay = bus.RunReplayAsync(stop.Token);
        await EventuallyAsync(() => Task.FromResult(bus.Status.SpoolBacklog == 0), "the inherited spool to drain");
        await stop.CancelAsync();
        await replay;
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"crash-{i}"), ReadTopic("events-" + _suffix, 5).Select(e => e.EventId));
    }

    /// <summary>Reads a topic from the beginning of every partition, without a group (no rebalance wait).</summary>
    private List<UserEvent> ReadTopic(string topic, int expected)
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig { BootstrapServers = _cluster.BootstrapServers, GroupId = "reader-" + _suffix, EnableAutoCommit = false }).Build();
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions;
        consumer.Assign(partitions.Select(p => new TopicPartitionOffset(topic, p.PartitionId, Offset.Beginning)));
        var events = new List<UserEvent>();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result is null)
            {
                if (events.Count >= expected) break;
                continue;
            }
            events.Add(EventSerializer.DeserializeEvent(result.Message.Value)!);
        }
        return events;
    }
}
