namespace RecSys.Events;

/// <summary>
/// Told of each interaction as it reaches the online store: by the event consumer for every applied event, and by the
/// demo seeder for the world's log. Implementations must be quick and must not throw (they run on the consumer's path).
/// </summary>
public interface IInteractionObserver
{
    /// <param name="interaction">The event in dense form.</param>
    /// <param name="device">The device the client reported (<c>mobile</c>, <c>desktop</c>, <c>tablet</c>), null when none.</param>
    /// <param name="userRegion">The user's region in the catalog (its clock gives the event's local time), null when unknown.</param>
    void Observe(in Interaction interaction, string? device, string? userRegion);
}
