using System.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RecSys.Demo;
using RecSys.Ranking;

namespace RecSys.Training.Serving;

/// <summary>
/// The service's first run: with no model in the models folder and the demo world on, trains the demo world's models
/// there in the background (the very world the demo seeder loads, generated once for both: <see cref="DemoWorldSource"/>), logging progress, then reloads the
/// ranking models, which publishes the trained item vectors. Readiness waits for it (<see cref="FirstRunTrainingCheck"/>);
/// a failed run is logged and the built-in models keep serving.
/// </summary>
internal sealed partial class FirstRunTrainer(
    IOptions<TrainingServiceOptions> options,
    IOptions<RankingOptions> ranking,
    IOptions<DemoOptions> demo,
    DemoWorldSource worlds,
    IOptions<RecSys.Retrieval.RetrievalOptions> retrieval,
    IRankingModels models,
    ILogger<FirstRunTrainer> logger) : BackgroundService
{
    private volatile bool _training;

    /// <summary>True while the first-run training is in progress.</summary>
    public bool IsTraining => _training;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.TrainOnFirstRun || !demo.Value.Enabled) return;
        var root = Path.GetFullPath(ranking.Value.ModelsDirectory);
        if (File.Exists(Path.Combine(root, Trainer.CurrentFile)) || File.Exists(Path.Combine(root, Trainer.ManifestFile))) return;
        _training = true; // before the first await: readiness must not pass before this flag is seen
        try
        {
            await Task.Yield();
            var watch = Stopwatch.StartNew();
            LogStarting(root, demo.Value.Items, demo.Value.Users);
            var progress = new Progress(this);
            // The seeder's world (generated once for both; the seeder loads it while this trains on it).
            var world = await worlds.GetAsync(null, stoppingToken).ConfigureAwait(false);
            var run = await Task.Run(async () =>
            {
                var dataset = DatasetReaders.FromDemoWorld(world);
                // No evaluation split on the first run: the `train` verb reports the metrics.
                return await Trainer.RunAsync(dataset, new TrainingOptions { ModelsDirectory = root, Evaluate = false, HnswIndex = retrieval.Value }, progress, stoppingToken).ConfigureAwait(false);
            }, stoppingToken).ConfigureAwait(false);
            worlds.Release();
            LogTrained(run.Version, run.Directory, watch.Elapsed.TotalSeconds);
            await models.ReloadAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            LogFailed(ex);
        }
        finally
        {
            _training = false;
        }
    }

    private sealed class Progress(FirstRunTrainer trainer) : IProgress<string>
    {
        public void Report(string value) => trainer.LogProgress(value);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "No model in {Directory}: training the demo world's models ({Items} items, {Users} users) in the background; ready when done (Training:TrainOnFirstRun=false turns this off)")]
    private partial void LogStarting(string directory, int items, int users);

    [LoggerMessage(Level = LogLevel.Information, Message = "First-run training: {What}")]
    private partial void LogProgress(string what);

    [LoggerMessage(Level = LogLevel.Information, Message = "First-run training wrote {Version} to {Directory} in {Seconds:0.0} s; loading it")]
    private partial void LogTrained(string version, string directory, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "First-run training failed; the built-in models keep serving")]
    private partial void LogFailed(Exception exception);
}

/// <summary>Not ready while the first-run training is in progress.</summary>
internal sealed class FirstRunTrainingCheck(FirstRunTrainer trainer) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(trainer.IsTraining ? HealthCheckResult.Unhealthy("training the demo models on the first run") : HealthCheckResult.Healthy());
}
