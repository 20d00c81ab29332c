using System.Net;
using System.Net.Http.Json;
using Confluent.Kafka;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using RecSys.Events;
using RecSys.Events.Kafka;
using RecSys.Tests.Events;
using static RecSys.Tests.Integration.EventsApiTests;

namespace RecSys.Tests.Integration;

/// <summary>The service with <c>Events:Bus=kafka</c> on librdkafka's mock cluster, over the real HTTP pipeline.</summary>
public sealed class KafkaRecSysFactory : WebApplicationFactory<Program>
{
    public MockKafkaCluster Cluster { get; } = new();

    public string Suffix { get; } = Guid.NewGuid().ToString("N")[..8];

    public string SpoolDirectory { get; } = Path.Combine(Path.GetTempPath(), "recsys-spool-" + Guid.NewGuid().ToString("N"));

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSmallDemoWorld();
        builder.UseSetting("Events:Bus", "kafka");
        builder.UseSetting("Events:Kafka:BootstrapServers", Cluster.BootstrapServers);
        builder.UseSetting("Events:Kafka:EventsTopic", "events-" + Suffix);
        builder.UseSetting("Events:Kafka:ImpressionsTopic", "impressions-" + Suffix);
        builder.UseSetting("Events:Kafka:ConsumerGroup", "group-" + Suffix);
        builder.UseSetting("Events:Kafka:SpoolDirectory", SpoolDirectory);
        builder.UseSetting("Events:Kafka:SessionTimeoutMilliseconds", "6000");
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (!disposing) return;
        Cluster.Dispose();
        if (Directory.Exists(SpoolDirectory)) Directory.Delete(SpoolDirectory, recursive: true);
    }
}

public class EventsKafkaTests(KafkaRecSysFactory factory) : IClassFixture<KafkaRecSysFactory>
{
    [Fact]
    public async Task A_click_posted_over_http_travels_through_kafka_and_changes_the_next_answer()
    {
        var client = await factory.ReadyClientAsync();
        Assert.IsType<KafkaEventBus>(factory.Services.GetRequiredService<IEventBus>());
        var clicked = (await RecommendedAsync(client, "u_21"))[0];
        var clicksBefore = (await StatsAsync(factory.Services, clicked)).Clicks;

        using var response = await client.PostAsJsonAsync("/events", new { events = new[] { Row(Guid.NewGuid().ToString(), "u_21", clicked, "click") } });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        // The first delivery waits for the consumer group to form (a few seconds on the mock cluster); later ones are quick.
        await EventuallyAsync(async () => (await StatsAsync(factory.Services, clicked)).Clicks == clicksBefore + 1, "the click to arrive through Kafka", seconds: 30);
        await AssertClickFedBackAsync(client, factory.Services, "u_21", clicked);
        Assert.Equal(0, factory.Services.GetRequiredService<IEventBus>().Status.SpoolBacklog);
    }

    [Fact]
    public async Task Each_answer_puts_one_impression_with_positions_scores_and_sources_on_the_impressions_topic()
    {
        var client = await factory.ReadyClientAsync();
        var requestId = "impression-" + Guid.NewGuid().ToString("N");
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/recommendations?userId=u_22&count=5&device=tablet", UriKind.Relative));
        request.Headers.Add("X-Request-Id", requestId);
        var body = await JsonAsync(await client.SendAsync(request));
        var served = body.GetProperty("items").EnumerateArray().ToArray();

        var impression = await FindImpressionAsync(requestId);

        Assert.Equal("u_22", impression.UserId);
        Assert.Equal(body.GetProperty("modelVersion").GetString(), impression.ModelVersion);
        Assert.Null(impression.ExperimentVariant);
        Assert.Equal("tablet", impression.Context?.Device);
        Assert.Equal(served.Select(i => i.GetProperty("itemId").GetString()), impression.Items.Select(i => i.ItemId));
        Assert.Equal(served.Select(i => i.GetProperty("rank").GetInt32()), impression.Items.Select(i => i.Position));
        Assert.Equal(served.Select(i => i.GetProperty("score").GetSingle()), impression.Items.Select(i => i.Score));
        Assert.Equal(served.Select(i => i.GetProperty("source").GetString()), impression.Items.Select(i => i.Source));
    }

    private async Task<ServedImpression> FindImpressionAsync(string requestId)
    {
        var topic = "impressions-" + factory.Suffix;
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig { BootstrapServers = factory.Cluster.BootstrapServers, GroupId = "reader-" + factory.Suffix, EnableAutoCommit = false }).Build();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            Assert.True(DateTime.UtcNow < deadline, $"no impression for {requestId} on {topic}");
            using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
            var metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(5)).Topics.SingleOrDefault();
            if (metadata is null || metadata.Error.IsError || metadata.Partitions.Count == 0)
            {
                await Task.Delay(100);
                continue;
            }
            consumer.Assign(metadata.Partitions.Select(p => new TopicPartitionOffset(topic, p.PartitionId, Offset.Beginning)));
            while (DateTime.UtcNow < deadline)
            {
                var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (result is null) continue;
                var impression = EventSerializer.DeserializeImpression(result.Message.Value)!;
                if (impression.RequestId == requestId)
                {
                    Assert.Equal("u_22", result.Message.Key);
                    return impression;
                }
            }
        }
    }
}
