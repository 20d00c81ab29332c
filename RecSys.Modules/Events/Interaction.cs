namespace RecSys.Events;

/// <summary>What a user did with an item. Numeric values are stable: they are stored in logs and files.</summary>
public enum EventType : byte
{
    Impression = 0,
    View = 1,
    Click = 2,
    Like = 3,
    Share = 4,
    Hide = 5,
    Dwell = 6,
}

/// <summary>
/// One event in dense-index form, the shape the online store and the trainer consume.
/// <paramref name="Value"/> carries the dwell seconds for <see cref="EventType.Dwell"/> and the position for impressions.
/// </summary>
public readonly record struct Interaction(int UserIndex, int ItemIndex, EventType Type, long UnixSeconds, float Value)
{
    /// <summary>True for events that say the user wanted the item (they feed the user's history and query vector).</summary>
    public bool IsPositive => Type is EventType.Click or EventType.Like or EventType.Share or EventType.Dwell;
}
