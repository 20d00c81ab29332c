namespace RecSys.Events;

/// <summary>One item of an answer as it was served.</summary>
/// <param name="Position">Rank in the answer, from 1.</param>
/// <param name="Source">The candidate source that found the item (<c>ann</c>, <c>popular</c>, ...).</param>
public sealed record ServedItem(string ItemId, int Position, float Score, string Source);

/// <summary>
/// One answer of <c>/recommendations</c>, logged for training and to update item impression counters and the user's
/// seen set. <paramref name="ExperimentVariant"/> is null until experiments exist.
/// </summary>
public sealed record ServedImpression(
    string RequestId,
    string UserId,
    string ModelVersion,
    string? ExperimentVariant,
    DateTimeOffset Timestamp,
    IReadOnlyList<ServedItem> Items,
    EventContext? Context)
{
    /// <summary>The per-item impression events this answer stands for, as the event log stores them (value = position).</summary>
    public IEnumerable<UserEvent> ToEvents() =>
        Items.Select(i => new UserEvent($"{RequestId}#{i.Position}", UserId, i.ItemId, EventType.Impression, i.Position, RequestId, Timestamp, Context));
}

/// <summary>
/// Called by the API after each answer is built; returns at once (the impression is published in the background,
/// off the request's critical path).
/// </summary>
public interface IImpressionSink
{
    void Emit(ServedImpression impression);
}
