using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RecSys.Events.Bus;
using RecSys.Events.Consumer;

namespace RecSys.Events.Kafka;

/// <summary>
/// The consumer group member that applies the events and impressions topics to the online store and the event log.
/// Offsets are committed only after a batch is applied (at-least-once); the applier makes redeliveries no-ops.
/// </summary>
internal sealed partial class KafkaEventConsumer(EventApplier applier, IOptions<EventsOptions> options, ILogger<KafkaEventConsumer> logger)
{
    /// <summary>Runs on a dedicated thread until <paramref name="stoppingToken"/> is cancelled, then leaves the group.</summary>
    public Task RunAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stoppingToken)
    {
        var o = options.Value.Kafka;
        var config = new ConsumerConfig
        {
            BootstrapServers = o.BootstrapServers,
            GroupId = o.ConsumerGroup,
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            SessionTimeoutMs = o.SessionTimeoutMilliseconds,
            FetchWaitMaxMs = o.FetchWaitMaxMilliseconds,
            HeartbeatIntervalMs = Math.Max(100, o.SessionTimeoutMilliseconds / 10),
            ClientId = "recsys-online-store",
        };
        using var consumer = new ConsumerBuilder<string, byte[]>(config)
            .SetErrorHandler((_, error) => LogKafkaError(error.Code.ToString(), error.Reason))
            .SetLogHandler((_, message) => LogLibrdkafka(message.Facility, message.Message))
            .Build();
        consumer.Subscribe([o.EventsTopic, o.ImpressionsTopic]);
        var batch = new List<ConsumeResult<string, byte[]>>(o.ConsumerBatchSize);
        var messages = new List<BusMessage>(o.ConsumerBatchSize);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                batch.Clear();
                messages.Clear();
                batch.Add(consumer.Consume(stoppingToken));
                while (batch.Count < o.ConsumerBatchSize && consumer.Consume(TimeSpan.Zero) is { } more) batch.Add(more);
                foreach (var result in batch)
                {
                    if (Decode(result, o) is { } message) messages.Add(message);
                }
                ApplyUntilDone(messages, stoppingToken);
                consumer.Commit(batch
                    .GroupBy(r => r.TopicPartition)
                    .Select(g => new TopicPartitionOffset(g.Key, new Offset(g.Max(r => r.Offset.Value) + 1))));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            consumer.Close();
        }
    }

    private BusMessage? Decode(ConsumeResult<string, byte[]> result, KafkaOptions o)
    {
        try
        {
            if (result.Topic == o.ImpressionsTopic)
            {
                return EventSerializer.DeserializeImpression(result.Message.Value) is { } impression ? BusMessage.Of(impression) : null;
            }
            return EventSerializer.DeserializeEvent(result.Message.Value) is { } e ? BusMessage.Of([e]) : null;
        }
        catch (System.Text.Json.JsonException ex)
        {
            // A message no version of this service wrote: skipped (and committed past) rather than blocking the partition.
            LogUndecodable(result.Topic, result.Partition.Value, result.Offset.Value, ex.Message);
            return null;
        }
    }

    /// <summary>Retries a failing store until it takes the batch: committing past unapplied events would lose them.</summary>
    private void ApplyUntilDone(List<BusMessage> messages, CancellationToken stoppingToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                applier.ApplyAsync(messages, stoppingToken).AsTask().GetAwaiter().GetResult();
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogApplyFailed(attempt, ex);
                stoppingToken.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(Math.Min(5000, 100 * attempt)));
                stoppingToken.ThrowIfCancellationRequested();
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Skipped an undecodable message at {Topic}[{Partition}]@{Offset}: {Error}")]
    private partial void LogUndecodable(string topic, int partition, long offset, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Applying a batch failed (attempt {Attempt}); retrying")]
    private partial void LogApplyFailed(int attempt, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka consumer error {Code}: {Reason}")]
    private partial void LogKafkaError(string code, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "librdkafka {Facility}: {Message}")]
    private partial void LogLibrdkafka(string facility, string message);
}
