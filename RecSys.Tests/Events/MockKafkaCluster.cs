using Confluent.Kafka;

namespace RecSys.Tests.Events;

/// <summary>
/// librdkafka's built-in mock cluster: a client configured with <c>test.mock.num.brokers</c> starts an in-process broker
/// that other clients reach over TCP at <see cref="BootstrapServers"/> while this owner lives. Topics are created on
/// first use.
/// </summary>
public sealed class MockKafkaCluster : IDisposable
{
    private readonly IProducer<Null, Null> _owner;

    public MockKafkaCluster()
    {
        var config = new ProducerConfig { BootstrapServers = "unused:9092" };
        config.Set("test.mock.num.brokers", "1");
        _owner = new ProducerBuilder<Null, Null>(config).SetLogHandler((_, _) => { }).Build();
        using var admin = new DependentAdminClientBuilder(_owner.Handle).Build();
        var broker = admin.GetMetadata(TimeSpan.FromSeconds(10)).Brokers.Single();
        BootstrapServers = $"{broker.Host}:{broker.Port}";
    }

    public string BootstrapServers { get; }

    public int Port => int.Parse(BootstrapServers.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);

    public void Dispose() => _owner.Dispose();
}
