namespace RecSys.Events.Bus;

/// <summary>What travels on the bus: a batch of client events, or one answer's impression.</summary>
internal readonly record struct BusMessage(IReadOnlyList<UserEvent>? Events, ServedImpression? Impression)
{
    public static BusMessage Of(IReadOnlyList<UserEvent> events) => new(events, null);

    public static BusMessage Of(ServedImpression impression) => new(null, impression);
}

/// <summary>Counters shared by the bus, the consumers and the impression writer (read by the health check).</summary>
internal sealed class EventStats
{
    public long Published;
    public long Applied;
    public long Duplicates;
    public long Unmapped;
    public long ImpressionsDropped;
}
