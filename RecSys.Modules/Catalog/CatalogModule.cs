using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using RecSys.Catalog.Memory;

namespace RecSys.Catalog;

public static class CatalogModule
{
    public static IServiceCollection AddCatalog(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<CatalogStoreOptions>().Bind(configuration.GetSection(CatalogStoreOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<InMemoryCatalog>();
        services.AddSingleton<ICatalog>(sp => sp.GetRequiredService<InMemoryCatalog>());
        services.AddSingleton<ICatalogWriter>(sp => sp.GetRequiredService<InMemoryCatalog>());
        services.AddSingleton<InMemorySocialGraph>();
        services.AddSingleton<ISocialGraph>(sp => sp.GetRequiredService<InMemorySocialGraph>());
        services.AddSingleton<ISocialGraphWriter>(sp => sp.GetRequiredService<InMemorySocialGraph>());
        // Stores:Catalog=postgres: the same in-memory snapshot serves reads; PostgreSQL fills it at start-up and refreshes it.
        if (string.Equals(configuration.GetSection(CatalogStoreOptions.SectionName)[nameof(CatalogStoreOptions.Catalog)], "postgres", StringComparison.Ordinal))
        {
            var connectionString = configuration.GetConnectionString("Postgres");
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                throw new InvalidOperationException("Stores:Catalog is 'postgres' but ConnectionStrings:Postgres is not set (an Npgsql connection string; environment: ConnectionStrings__Postgres).");
            }
            services.TryAddSingleton(_ => Npgsql.NpgsqlDataSource.Create(connectionString));
            services.AddHostedService<Postgres.PostgresCatalogLoader>();
        }
        // Stores:ModelRegistry=postgres: the registry of trained versions (written by `train --register`) is readable by the service.
        if (string.Equals(configuration.GetSection(CatalogStoreOptions.SectionName)[nameof(CatalogStoreOptions.ModelRegistry)], "postgres", StringComparison.Ordinal))
        {
            var connectionString = configuration.GetConnectionString("Postgres");
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                throw new InvalidOperationException("Stores:ModelRegistry is 'postgres' but ConnectionStrings:Postgres is not set (an Npgsql connection string; environment: ConnectionStrings__Postgres).");
            }
            services.AddSingleton<IModelRegistry>(_ => new Postgres.PostgresModelRegistry(connectionString));
        }
        services.AddHealthChecks().AddCheck<CatalogReadyCheck>("catalog", tags: ["ready"]);
        return services;
    }

    private sealed class CatalogReadyCheck(ICatalog catalog) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(catalog.IsLoaded
                ? HealthCheckResult.Healthy($"catalog {catalog.Version}: {catalog.ItemCount} items")
                : HealthCheckResult.Unhealthy("catalog not loaded yet"));
    }
}
