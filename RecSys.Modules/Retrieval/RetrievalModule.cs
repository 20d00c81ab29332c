using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using RecSys.Retrieval.Hnsw;
using RecSys.Retrieval.Sources;

namespace RecSys.Retrieval;

public static class RetrievalModule
{
    public static IServiceCollection AddRetrieval(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RetrievalOptions>().Bind(configuration.GetSection(RetrievalOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<AnnIndexHolder>();
        // The index holder subscribes as the store is created, so it sees every publish.
        services.AddSingleton(sp =>
        {
            var store = new ItemEmbeddingStore();
            sp.GetRequiredService<AnnIndexHolder>().Attach(store);
            return store;
        });
        services.AddSingleton<PopularItems>();
        services.AddSingleton<CatalogItemLists>();
        services.AddSingleton<ICandidateGenerator, CandidateGenerator>();
        services.AddHealthChecks()
            .AddCheck<EmbeddingsReadyCheck>("embeddings", tags: ["ready"])
            .AddCheck<IndexReadyCheck>("index", tags: ["ready"]);
        return services;
    }

    private sealed class EmbeddingsReadyCheck(ItemEmbeddingStore store) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(store.Current is { } e
                ? HealthCheckResult.Healthy($"embeddings {e.Version}: {e.Count} x {e.Dimensions}")
                : HealthCheckResult.Unhealthy("item embeddings not loaded yet"));
    }

    /// <summary>Ready once the ANN index of the current embeddings is built (or when the exact scan is configured).</summary>
    private sealed class IndexReadyCheck(ItemEmbeddingStore store, AnnIndexHolder holder, IOptions<RetrievalOptions> options) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            if (!options.Value.UsesIndex) return Task.FromResult(HealthCheckResult.Healthy("Retrieval:Index=exact: the exact scan serves"));
            if (store.Current is not { } e) return Task.FromResult(HealthCheckResult.Unhealthy("no embeddings to index yet"));
            if (holder.For(e) is not null) return Task.FromResult(HealthCheckResult.Healthy(holder.Describe(e)));
            return Task.FromResult(holder.Failed(e)
                ? HealthCheckResult.Degraded($"building the hnsw index of embeddings {e.Version} failed: the exact scan serves")
                : HealthCheckResult.Unhealthy(holder.Describe(e)));
        }
    }
}
