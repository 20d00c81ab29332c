using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RecSys.Ranking.TwoStage;

namespace RecSys.Ranking;

public static partial class RankingModule
{
    public static IServiceCollection AddRanking(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RankingOptions>().Bind(configuration.GetSection(RankingOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ModelStore>();
        services.AddSingleton<IRankingModels>(sp => sp.GetRequiredService<ModelStore>());
        services.AddSingleton<IRanker, TwoStageRanker>();
        services.AddHostedService<ModelLoader>();
        return services;
    }

    /// <summary>Loads the models while the host starts (a missing library or a broken model stops the start with its reason) and, when asked, watches the folder.</summary>
    private sealed partial class ModelLoader(ModelStore store, IOptions<RankingOptions> options, ILogger<ModelLoader> logger) : IHostedService, IDisposable
    {
        private FileSystemWatcher? _watcher;
        private Timer? _debounce;

        public Task StartAsync(CancellationToken cancellationToken)
        {
            _ = store.Current;
            if (options.Value.WatchModels && Directory.Exists(options.Value.ModelsDirectory))
            {
                _debounce = new Timer(_ => Reload(), null, Timeout.Infinite, Timeout.Infinite);
                _watcher = new FileSystemWatcher(Path.GetFullPath(options.Value.ModelsDirectory)) { IncludeSubdirectories = true, NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.DirectoryName };
                _watcher.Changed += (_, e) => Changed(e.Name);
                _watcher.Created += (_, e) => Changed(e.Name);
                _watcher.Renamed += (_, e) => Changed(e.Name);
                _watcher.EnableRaisingEvents = true;
            }
            return Task.CompletedTask;
        }

        private void Changed(string? name)
        {
            if (name is null || !(name == "current" || name.EndsWith("manifest.json", StringComparison.Ordinal))) return;
            _debounce?.Change(TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan); // writers touch files several times
        }

        private void Reload()
        {
            try
            {
                store.ReloadAsync(CancellationToken.None).GetAwaiter().GetResult();
            }
            catch (ModelRejectedException ex)
            {
                LogWatchRefused(logger, ex.Message);
            }
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public void Dispose()
        {
            _watcher?.Dispose();
            _debounce?.Dispose();
        }

        [LoggerMessage(Level = LogLevel.Warning, Message = "Watched model change refused: {Error}")]
        private static partial void LogWatchRefused(ILogger logger, string error);
    }
}
