using Microsoft.Extensions.Logging;
using RecSys.Events.Bus;

namespace RecSys.Events.Consumer;

/// <summary>Reads the in-process channel and applies what it holds, many messages per call.</summary>
internal sealed partial class InProcessConsumer(InProcessEventBus bus, EventApplier applier, ILogger<InProcessConsumer> logger)
{
    private const int MaxMessagesPerApply = 256;

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var batch = new List<BusMessage>(MaxMessagesPerApply);
        try
        {
            while (await bus.Reader.WaitToReadAsync(stoppingToken))
            {
                batch.Clear();
                while (batch.Count < MaxMessagesPerApply && bus.Reader.TryRead(out var message)) batch.Add(message);
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        await applier.ApplyAsync(batch, stoppingToken);
                        break;
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        LogApplyFailed(attempt, ex);
                        await Task.Delay(Math.Min(5000, 100 * attempt), stoppingToken);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Applying a batch of events failed (attempt {Attempt}); retrying")]
    private partial void LogApplyFailed(int attempt, Exception exception);
}
