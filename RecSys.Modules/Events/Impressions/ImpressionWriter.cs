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

    /// <summary>
    /// Publishes what the queue holds, up to <see cref="MaxInFlight"/> at once: each hand-over is issued in queue order
    /// (so one user's impressions keep their order) and the acknowledgements are awaited together.
    /// </summary>
    public async Task RunAsync(IEventBus bus, CancellationToken stoppingToken)
    {
        var pending = new List<Task>(MaxInFlight);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                pending.Clear();
                while (pending.Count < MaxInFlight && _queue.Reader.TryRead(out var impression))
                {
                    pending.Add(bus.PublishImpressionAsync(impression, stoppingToken).AsTask());
                }
                try
                {
                    await Task.WhenAll(pending);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogPublishFailed(ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private const int MaxInFlight = 256;

    [LoggerMessage(Level = LogLevel.Error, Message = "Publishing impressions failed")]
    private partial void LogPublishFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The impression queue is full: {Dropped} impressions dropped so far")]
    private partial void LogDropped(long dropped);
}
