using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using RecSys.Retrieval.Sources;

namespace RecSys.Retrieval;

public static class RetrievalModule
{
    public static IServiceCollection AddRetrieval(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RetrievalOptions>().Bind(configuration.GetSection(RetrievalOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ItemEmbeddingStore>();
        services.AddSingleton<PopularItems>();
        services.AddSingleton<ICandidateGenerator, CandidateGenerator>();
        services.AddHealthChecks().AddCheck<EmbeddingsReadyCheck>("embeddings", tags: ["ready"]);
        return services;
    }

    private sealed class EmbeddingsReadyCheck(ItemEmbeddingStore store) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(store.Current is { } e
                ? HealthCheckResult.Healthy($"embeddings {e.Version}: {e.Count} x {e.Dimensions}")
                : HealthCheckResult.Unhealthy("item embeddings not loaded yet"));
    }
}
