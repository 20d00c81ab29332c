using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using RecSys.Features.Memory;

namespace RecSys.Features;

public static class FeaturesModule
{
    public static IServiceCollection AddFeatures(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<FeaturesOptions>().Bind(configuration.GetSection(FeaturesOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<OnlineStoreOptions>().Bind(configuration.GetSection(OnlineStoreOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        // Stores:Online picks the implementation (an invalid value is refused by the options validation at start-up).
        if (string.Equals(configuration.GetSection(OnlineStoreOptions.SectionName)[nameof(OnlineStoreOptions.Online)], "redis", StringComparison.Ordinal))
        {
            Redis.RedisStoreRegistration.AddRedisFeatureStore(services, configuration);
        }
        else
        {
            services.AddSingleton<IFeatureStore, InMemoryFeatureStore>();
        }
        services.AddSingleton(sp => new FeatureAssembler(FeatureSchema.Default, sp.GetRequiredService<IOptions<FeaturesOptions>>().Value.HotItemTrendScore));
        services.AddHealthChecks().AddCheck<FeatureStoreReadyCheck>("online-store", tags: ["ready"]);
        return services;
    }

    private sealed class FeatureStoreReadyCheck(IFeatureStore store) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(store.IsLoaded ? HealthCheckResult.Healthy("online store loaded") : HealthCheckResult.Unhealthy("online store not loaded yet"));
    }
}
