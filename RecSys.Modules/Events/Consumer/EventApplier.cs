using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RecSys.Catalog;
using RecSys.Events.Bus;
using RecSys.Features;
using RecSys.Retrieval;

namespace RecSys.Events.Consumer;

/// <summary>
/// Applies bus messages to the online store (dense <see cref="Interaction"/>s, seen sets) and to the event log when one
/// is registered. Idempotent by event id within <see cref="EventsOptions.DeduplicationWindow"/>: a redelivered event
/// (Kafka's at-least-once, a client's re-send, a spool replay) changes nothing. Calls are serialized.
/// TEMPORARY: the remembered ids live in this process. With the in-memory store that is exact (the store dies with
/// them); with a persistent online store, a crash between applying a Kafka batch and committing its offsets re-applies
/// that one batch after the restart. Checking ids against a durable set (the store or the event log) closes the gap.
/// After applying, it refreshes the stored query vectors of the users whose history changed (off the request path, so a
/// request reads the vector with the user state instead of folding it in).
/// </summary>
internal sealed partial class EventApplier(
    ICatalog catalog,
    IFeatureStore store,
    ItemEmbeddingStore embeddings,
    IEnumerable<IEventLog> eventLogs,
    IEnumerable<IInteractionObserver> observers,
    IOptions<EventsOptions> options,
    EventStats stats,
    ILogger<EventApplier> logger)
{
    private readonly IEventLog? _eventLog = eventLogs.LastOrDefault();
    private readonly IInteractionObserver[] _observers = [.. observers];
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly HashSet<string> _applied = new(StringComparer.Ordinal);
    private readonly Queue<string> _appliedOrder = new();

    public async ValueTask ApplyAsync(IReadOnlyList<BusMessage> messages, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var fresh = new List<UserEvent>();
            var freshIds = new HashSet<string>(StringComparer.Ordinal);
            var interactions = new List<Interaction>();
            // What observers learn beside each interaction: the client's device and the user's region.
            var contexts = new List<(string? Device, string? Region)>();
            var seen = new List<(int User, int[] Items, long At)>();
            var duplicates = 0;
            var unmapped = 0;
            foreach (var message in messages)
            {
                if (message.Events is { } events)
                {
                    foreach (var e in events) Collect(e, ref duplicates, ref unmapped);
                }
                else if (message.Impression is { } impression)
                {
                    var before = fresh.Count;
                    foreach (var e in impression.ToEvents()) Collect(e, ref duplicates, ref unmapped);
                    if (fresh.Count > before && catalog.TryGetUser(impression.UserId, out var user))
                    {
                        var items = new List<int>(impression.Items.Count);
                        foreach (var i in impression.Items)
                        {
                            if (catalog.TryGetItem(i.ItemId, out var item)) items.Add(item.Index);
                        }
                        seen.Add((user.Index, [.. items], impression.Timestamp.ToUnixTimeSeconds()));
                    }
                }
            }

            if (interactions.Count > 0)
            {
                await store.ApplyAsync(interactions.ToArray(), cancellationToken);
                await RefreshQueryVectorsAsync(interactions, cancellationToken);
            }
            foreach (var observer in _observers)
            {
                for (var i = 0; i < interactions.Count; i++) observer.Observe(interactions[i], contexts[i].Device, contexts[i].Region);
            }
            foreach (var (user, items, at) in seen) await store.MarkSeenAsync(user, items, at, cancellationToken);
            if (_eventLog is not null && fresh.Count > 0) await _eventLog.AppendAsync(fresh, cancellationToken);

            // Remembered only once applied: a failure above leaves them unapplied, and the retry applies them.
            var window = options.Value.DeduplicationWindow;
            foreach (var e in fresh)
            {
                _applied.Add(e.EventId);
                _appliedOrder.Enqueue(e.EventId);
                while (_appliedOrder.Count > window) _applied.Remove(_appliedOrder.Dequeue());
            }
            Interlocked.Add(ref stats.Applied, fresh.Count);
            Interlocked.Add(ref stats.Duplicates, duplicates);
            if (unmapped > 0)
            {
                Interlocked.Add(ref stats.Unmapped, unmapped);
                LogUnmapped(unmapped);
            }

            void Collect(UserEvent e, ref int duplicates, ref int unmapped)
            {
                if (_applied.Contains(e.EventId) || !freshIds.Add(e.EventId))
                {
                    duplicates++;
                    return;
                }
                fresh.Add(e);
                // Users the catalog does not know yet (new sign-ups) still reach the event log; the dense store cannot hold them.
                if (catalog.TryGetUser(e.UserId, out var user) && catalog.TryGetItem(e.ItemId, out var item))
                {
                    interactions.Add(new Interaction(user.Index, item.Index, e.Type, e.Timestamp.ToUnixTimeSeconds(), e.Value ?? 0));
                    contexts.Add((e.Context?.Device, user.Region));
                }
                else
                {
                    unmapped++;
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Stores the new query vectors of the users whose history these events changed. A failure is logged, not thrown:
    /// the events are applied, and a request folds the vector in itself (the stored one no longer matches the history).
    /// </summary>
    private async Task RefreshQueryVectorsAsync(List<Interaction> interactions, CancellationToken cancellationToken)
    {
        if (embeddings.Current is not { } current) return;
        var users = new HashSet<int>();
        foreach (var e in interactions)
        {
            if (e.IsPositive) users.Add(e.UserIndex);
        }
        if (users.Count == 0) return;
        try
        {
            await store.RefreshQueryVectorsAsync(users.ToArray(), current, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            LogQueryVectorsFailed(ex, users.Count);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storing the query vectors of {Count} users failed; their requests fold the vector in until the next refresh")]
    private partial void LogQueryVectorsFailed(Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Count} events name a user or item the catalog does not know: logged, not applied to the online store")]
    private partial void LogUnmapped(int count);
}
