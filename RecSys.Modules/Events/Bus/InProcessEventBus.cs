using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace RecSys.Events.Bus;

/// <summary>
/// The embedded bus: a bounded channel read by one consumer. Publishers wait while it is full (back-pressure reaches
/// <c>POST /events</c>). Held in memory only: what is in the channel when the process dies is lost, which is why
/// production runs <c>Events:Bus=kafka</c>.
/// </summary>
internal sealed class InProcessEventBus(IOptions<EventsOptions> options, EventStats stats) : IEventBus
{
    private readonly Channel<BusMessage> _channel = Channel.CreateBounded<BusMessage>(
        new BoundedChannelOptions(options.Value.ChannelCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    public ChannelReader<BusMessage> Reader => _channel.Reader;

    public async ValueTask PublishAsync(IReadOnlyList<UserEvent> events, CancellationToken cancellationToken)
    {
        await _channel.Writer.WriteAsync(BusMessage.Of(events), cancellationToken);
        Interlocked.Add(ref stats.Published, events.Count);
    }

    public async ValueTask PublishImpressionAsync(ServedImpression impression, CancellationToken cancellationToken)
    {
        await _channel.Writer.WriteAsync(BusMessage.Of(impression), cancellationToken);
        Interlocked.Increment(ref stats.Published);
    }

    public EventBusStatus Status => new("inprocess", true, 0, Volatile.Read(ref stats.Published), Volatile.Read(ref stats.Applied),
        Volatile.Read(ref stats.Duplicates), Volatile.Read(ref stats.ImpressionsDropped));
}
