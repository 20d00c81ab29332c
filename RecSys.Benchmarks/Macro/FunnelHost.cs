using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RecSys.Catalog;
using RecSys.Demo;
using RecSys.Experiments;
using RecSys.Features;
using RecSys.Pipeline;
using RecSys.Ranking;
using RecSys.ReRanking;
using RecSys.Retrieval;

namespace RecSys.Benchmarks.Macro;

/// <summary>The funnel's modules wired as the service wires them, a world loaded, and the HNSW index built.</summary>
internal static class FunnelHost
{
    /// <summary>
    /// Returns once the index of the world's vectors is built, so measurements see the index and not the exact scan
    /// that serves while it builds. <paramref name="clock"/> defaults to the system clock.
    /// </summary>
    public static async Task<ServiceProvider> CreateAsync(DemoWorld world, IDictionary<string, string?>? settings = null, TimeProvider? clock = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build();
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddLogging(b => b.SetMinimumLevel(LogLevel.Warning));
        if (clock is not null) services.AddSingleton(clock);
        services.AddCatalog(configuration).AddFeatures(configuration).AddRetrieval(configuration).AddRanking(configuration)
            .AddReRanking(configuration).AddExperiments(configuration).AddPipeline(configuration);
        var provider = services.BuildServiceProvider();
        await DemoSeeder.LoadAsync(world, provider.GetRequiredService<ICatalogWriter>(), provider.GetRequiredService<ISocialGraphWriter>(),
            provider.GetRequiredService<IFeatureStore>(), provider.GetRequiredService<ItemEmbeddingStore>(), CancellationToken.None,
            observers: provider.GetServices<RecSys.Events.IInteractionObserver>());
        await provider.GetRequiredService<RecSys.Retrieval.Hnsw.AnnIndexHolder>().Building;
        return provider;
    }
}
