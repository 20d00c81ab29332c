namespace RecSys.Events;

/// <summary>
/// Carries accepted events to the consumers that apply them (online store, event log). <c>inprocess</c>: a bounded
/// channel; <c>kafka</c>: topics, with a local spool while the brokers are unreachable.
/// </summary>
public interface IEventBus
{
    /// <summary>
    /// Hands a validated batch to the bus; completes once the bus holds it (in-process: in the channel; Kafka:
    /// acknowledged by all in-sync replicas, or written and flushed to the spool).
    /// </summary>
    ValueTask PublishAsync(IReadOnlyList<UserEvent> events, CancellationToken cancellationToken);

    /// <summary>Hands one answer's impression to the bus, with the same guarantee.</summary>
    ValueTask PublishImpressionAsync(ServedImpression impression, CancellationToken cancellationToken);

    /// <summary>What the bus is doing now, for the health endpoint.</summary>
    EventBusStatus Status { get; }
}

/// <summary>The bus's state: <paramref name="SpoolBacklog"/> counts messages accepted but not yet delivered to Kafka.</summary>
public sealed record EventBusStatus(string Bus, bool BrokerReachable, long SpoolBacklog, long Published, long Applied, long Duplicates, long ImpressionsDropped);
