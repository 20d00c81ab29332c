using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RecSys.Events.Bus;

namespace RecSys.Events.Kafka;

/// <summary>
/// Publishes to Kafka with an idempotent producer (<c>acks=all</c>, key = user id so one user's events stay ordered in
/// one partition). A batch counts as handed over when every message is acknowledged; when the brokers are unreachable
/// (a delivery fails or librdkafka reports all brokers down) batches go to the <see cref="EventSpool"/> instead, and
/// keep going there while it holds a backlog, so order is kept; <see cref="RunReplayAsync"/> drains it when Kafka returns.
/// </summary>
internal sealed partial class KafkaEventBus : IEventBus, IDisposable
{
    private readonly KafkaOptions _options;
    private readonly EventStats _stats;
    private readonly ILogger<KafkaEventBus> _logger;
    private readonly IProducer<string, byte[]> _producer;
    private readonly EventSpool _spool;
    private readonly SemaphoreSlim _wake = new(0);
    private volatile bool _brokersDown;
    private int _disposed;

    public KafkaEventBus(IOptions<EventsOptions> options, EventStats stats, ILogger<KafkaEventBus> logger)
    {
        _options = options.Value.Kafka;
        _stats = stats;
        _logger = logger;
        _spool = new EventSpool(_options.SpoolDirectory);
        var config = new ProducerConfig
        {
            BootstrapServers = _options.BootstrapServers,
            EnableIdempotence = true,
            Acks = Acks.All,
            MessageTimeoutMs = _options.DeliveryTimeoutMilliseconds,
            LingerMs = 2,
            // Reconnect within a second once the brokers are back, so that the spool drains promptly.
            ReconnectBackoffMaxMs = 1000,
            ClientId = "recsys-events",
        };
        _producer = new ProducerBuilder<string, byte[]>(config)
            .SetErrorHandler((_, error) => OnError(error))
            .SetLogHandler((_, message) => LogLibrdkafka(message.Facility, message.Message))
            .Build();
        if (_spool.Backlog > 0)
        {
            _brokersDown = true;
            LogSpoolFound(_spool.Backlog, _spool.Path);
        }
    }

    public EventBusStatus Status => new("kafka", !_brokersDown, _spool.Backlog, Volatile.Read(ref _stats.Published), Volatile.Read(ref _stats.Applied),
        Volatile.Read(ref _stats.Duplicates), Volatile.Read(ref _stats.ImpressionsDropped));

    public ValueTask PublishAsync(IReadOnlyList<UserEvent> events, CancellationToken cancellationToken)
    {
        var records = new SpoolRecord[events.Count];
        for (var i = 0; i < records.Length; i++) records[i] = new SpoolRecord(_options.EventsTopic, events[i].UserId, EventSerializer.Serialize(events[i]));
        return HandOverAsync(records);
    }

    public ValueTask PublishImpressionAsync(ServedImpression impression, CancellationToken cancellationToken) =>
        HandOverAsync([new SpoolRecord(_options.ImpressionsTopic, impression.UserId, EventSerializer.Serialize(impression))]);

    // The caller's token is deliberately not used past this point: once produced, a batch is either acknowledged or spooled.
    private async ValueTask HandOverAsync(SpoolRecord[] records)
    {
        if (!_brokersDown && _spool.Backlog == 0)
        {
            try
            {
                await ProduceAllAsync(records);
                Interlocked.Add(ref _stats.Published, records.Length);
                return;
            }
            catch (KafkaException ex)
            {
                _brokersDown = true;
                LogSpooling(ex.Error.Code.ToString(), ex.Error.Reason);
            }
        }
        _spool.Append(records);
        Interlocked.Add(ref _stats.Published, records.Length);
        _wake.Release();
    }

    /// <summary>Produces every record and completes when all are acknowledged; throws the first delivery error.</summary>
    private Task ProduceAllAsync(IReadOnlyList<SpoolRecord> records)
    {
        if (records.Count == 0) return Task.CompletedTask;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var remaining = records.Count;
        Error? failure = null;
        void Report(DeliveryReport<string, byte[]> report)
        {
            if (report.Error.IsError) Interlocked.CompareExchange(ref failure, report.Error, null);
            if (Interlocked.Decrement(ref remaining) == 0) Complete();
        }
        void Complete()
        {
            if (failure is { } error) done.TrySetException(new KafkaException(error));
            else done.TrySetResult();
        }
        var produced = 0;
        try
        {
            for (; produced < records.Count; produced++)
            {
                var r = records[produced];
                _producer.Produce(r.Topic, new Message<string, byte[]> { Key = r.Key, Value = r.Value }, Report);
            }
        }
        catch (KafkaException ex)
        {
            // Queue full or a local error: what was queued may still be delivered (the consumer drops the duplicates).
            Interlocked.CompareExchange(ref failure, ex.Error, null);
            if (Interlocked.Add(ref remaining, -(records.Count - produced)) == 0) Complete();
        }
        return done.Task;
    }

    /// <summary>Drains the spool in order whenever it holds a backlog, retrying every <see cref="KafkaOptions.SpoolRetryMilliseconds"/>.</summary>
    public async Task RunReplayAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            if (_spool.Backlog == 0)
            {
                try
                {
                    await _wake.WaitAsync(_options.SpoolRetryMilliseconds, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                continue;
            }
            var (records, end) = _spool.Peek(1000);
            try
            {
                await ProduceAllAsync(records);
                _spool.Advance(end, records.Count);
                LogReplayed(records.Count, _spool.Backlog);
                if (_spool.Backlog == 0) _brokersDown = false;
            }
            catch (KafkaException ex)
            {
                LogReplayFailed(ex.Error.Code.ToString(), ex.Error.Reason, _spool.Backlog);
                try
                {
                    await Task.Delay(_options.SpoolRetryMilliseconds, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void OnError(Error error)
    {
        if (error.Code == ErrorCode.Local_AllBrokersDown) _brokersDown = true;
        LogKafkaError(error.Code.ToString(), error.Reason, error.IsFatal);
    }

    // Registered both as itself and as IEventBus, so the container disposes it twice.
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _producer.Flush(TimeSpan.FromSeconds(5));
        _producer.Dispose();
        _spool.Dispose();
        _wake.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka unreachable ({Code}: {Reason}): accepted events go to the spool")]
    private partial void LogSpooling(string code, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Found {Backlog} spooled messages in {Path}: replaying them before new ones")]
    private partial void LogSpoolFound(long backlog, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replayed {Count} spooled messages to Kafka; {Backlog} left")]
    private partial void LogReplayed(int count, long backlog);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Spool replay failed ({Code}: {Reason}); {Backlog} messages wait")]
    private partial void LogReplayFailed(string code, string reason, long backlog);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka producer error {Code}: {Reason} (fatal: {Fatal})")]
    private partial void LogKafkaError(string code, string reason, bool fatal);

    [LoggerMessage(Level = LogLevel.Debug, Message = "librdkafka {Facility}: {Message}")]
    private partial void LogLibrdkafka(string facility, string message);
}
