using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RecSys.Features.Redis.Resp;

namespace RecSys.Features.Redis;

internal static partial class RedisStoreRegistration
{
    /// <summary>Registers the Redis client (one multiplexed connection) and the Redis online store.</summary>
    public static void AddRedisFeatureStore(IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(sp =>
        {
            var connectionString = configuration.GetConnectionString("Redis");
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                throw new InvalidOperationException("Stores:Online is 'redis' but ConnectionStrings:Redis is not set (host:port[,password=...][,db=N]; environment: ConnectionStrings__Redis).");
            }
            return new RedisClient(RedisEndpoint.Parse(connectionString), sp.GetRequiredService<ILoggerFactory>().CreateLogger("RecSys.Redis"));
        });
        services.AddSingleton<RedisFeatureStore>();
        services.AddSingleton<IFeatureStore>(sp => sp.GetRequiredService<RedisFeatureStore>());
        services.AddHostedService<LoadMarkerWatcher>();
    }

    /// <summary>
    /// Turns the store ready once Redis holds a loaded data set (the <c>load</c> verb or a seeding instance leaves a
    /// marker), polling every two seconds until then; Redis being down at start-up only delays readiness.
    /// </summary>
    private sealed partial class LoadMarkerWatcher(RedisFeatureStore store, ILogger<LoadMarkerWatcher> logger) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            var told = false;
            while (!stoppingToken.IsCancellationRequested && !store.IsLoaded)
            {
                try
                {
                    if (await store.RefreshLoadedAsync(stoppingToken))
                    {
                        LogLoaded();
                        return;
                    }
                    if (!told) LogNotLoaded();
                    told = true;
                }
                catch (RedisException ex)
                {
                    LogUnreachable(ex.Message);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }

        [LoggerMessage(Level = LogLevel.Information, Message = "Redis online store: data set loaded; ready")]
        private partial void LogLoaded();

        [LoggerMessage(Level = LogLevel.Warning, Message = "Redis online store holds no loaded data set yet: run the 'load' verb (or let a seeding instance load it); not ready until then")]
        private partial void LogNotLoaded();

        [LoggerMessage(Level = LogLevel.Warning, Message = "Redis online store unreachable at start-up: {Error}; retrying")]
        private partial void LogUnreachable(string error);
    }
}
