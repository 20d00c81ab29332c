using System.ComponentModel.DataAnnotations;

namespace RecSys.Events;

/// <summary>Options of the <c>Events</c> section.</summary>
public sealed class EventsOptions
{
    public const string SectionName = "Events";

    /// <summary><c>inprocess</c> (a bounded channel; the embedded default) or <c>kafka</c>.</summary>
    [Required, RegularExpression("^(inprocess|kafka)$", ErrorMessage = "Events:Bus must be 'inprocess' or 'kafka'.")]
    public string Bus { get; set; } = "inprocess";

    /// <summary>Most events one <c>POST /events</c> may carry.</summary>
    [Range(1, 100_000)]
    public int MaxBatchSize { get; set; } = 1000;

    /// <summary>How many messages (event batches or impressions) the in-process channel holds before publishers wait.</summary>
    [Range(1, 1_000_000)]
    public int ChannelCapacity { get; set; } = 1000;

    /// <summary>How many impressions may wait to be published; past it an answer's impression is counted as dropped.</summary>
    [Range(1, 1_000_000)]
    public int ImpressionQueueCapacity { get; set; } = 50_000;

    /// <summary>How many recent event ids the consumer remembers to make redelivered events no-ops.</summary>
    [Range(1_000, 50_000_000)]
    public int DeduplicationWindow { get; set; } = 200_000;

    /// <summary>An event's timestamp may be at most this far in the future (client clocks drift).</summary>
    [Range(0, 86_400)]
    public int MaxClockSkewSeconds { get; set; } = 300;

    [Required]
    public KafkaOptions Kafka { get; set; } = new();
}

/// <summary>Options of <c>Events:Kafka</c>, used when <see cref="EventsOptions.Bus"/> is <c>kafka</c>.</summary>
public sealed class KafkaOptions
{
    [Required, MinLength(1)]
    public string BootstrapServers { get; set; } = "localhost:9092";

    /// <summary>Client events (<c>POST /events</c>), one JSON <see cref="UserEvent"/> per message, key = user id.</summary>
    [Required, RegularExpression("^[A-Za-z0-9._-]{1,249}$", ErrorMessage = "Events:Kafka:EventsTopic must be a valid topic name.")]
    public string EventsTopic { get; set; } = "recsys.events";

    /// <summary>One JSON <see cref="ServedImpression"/> per answer of <c>/recommendations</c>, key = user id.</summary>
    [Required, RegularExpression("^[A-Za-z0-9._-]{1,249}$", ErrorMessage = "Events:Kafka:ImpressionsTopic must be a valid topic name.")]
    public string ImpressionsTopic { get; set; } = "recsys.impressions";

    /// <summary>The consumer group that applies events to the online store and the event log.</summary>
    [Required, MinLength(1)]
    public string ConsumerGroup { get; set; } = "recsys-online-store";

    /// <summary>How long the producer tries to deliver a message before the batch is spooled (librdkafka <c>message.timeout.ms</c>).</summary>
    [Range(100, 600_000)]
    public int DeliveryTimeoutMilliseconds { get; set; } = 5000;

    /// <summary>Directory of the append-only spool that holds accepted events while Kafka is unreachable.</summary>
    [Required, MinLength(1)]
    public string SpoolDirectory { get; set; } = "data/spool";

    /// <summary>How often the spool is retried while it holds a backlog.</summary>
    [Range(50, 600_000)]
    public int SpoolRetryMilliseconds { get; set; } = 1000;

    /// <summary>How long the group waits for a silent member before handing its partitions to another (after a crash).</summary>
    [Range(1000, 300_000)]
    public int SessionTimeoutMilliseconds { get; set; } = 10_000;

    /// <summary>
    /// Longest a fetch waits for new messages (librdkafka <c>fetch.wait.max.ms</c>). A real broker answers as soon as a
    /// message arrives; librdkafka's mock broker waits this long, so it bounds the click-to-store delay in tests.
    /// </summary>
    [Range(1, 10_000)]
    public int FetchWaitMaxMilliseconds { get; set; } = 100;

    /// <summary>Most messages the consumer applies (then commits) at once.</summary>
    [Range(1, 100_000)]
    public int ConsumerBatchSize { get; set; } = 2000;
}
