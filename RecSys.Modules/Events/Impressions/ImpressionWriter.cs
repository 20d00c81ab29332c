using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RecSys.Events.Bus;

namespace RecSys.Events.Impressions;

/// <summary>
/// The request path's <see cref="IImpressionSink"/>: <see cref="Emit"/> only queues; a background loop publishes to the
/// bus. If the queue is full (the bus stalled for long), the impression is counted as dropped rather than slowing answers.
/// </summary>
internal sealed partial class ImpressionWriter(IOptions<EventsOptions> options, EventStats stats, ILogger<ImpressionWriter> logger) : IImpressionSink
{
    private readonly Channel<ServedImpression> _queue = Channel.CreateBounded<ServedImpression>(
        new BoundedChannelOptions(options.Value.ImpressionQueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    public void Emit(ServedImpression impression)
    {
        if (_queue.Writer.TryWrite(impression)) return;
        if (Interlocked.Increment(ref stats.ImpressionsDropped) % 1000 == 1) LogDropped(Volatile.Read(ref stats.ImpressionsDropped));
    }

    public async Task RunAsync(IEventBus bus, CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var impression in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                await bus.PublishImpressionAsync(impression, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The impression queue is full: {Dropped} impressions dropped so far")]
    private partial void LogDropped(long dropped);
}
