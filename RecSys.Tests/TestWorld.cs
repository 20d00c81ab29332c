using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RecSys.Catalog;
using RecSys.Demo;
using RecSys.Experiments;
using RecSys.Features;
using RecSys.Pipeline;
using RecSys.Ranking;
using RecSys.ReRanking;
using RecSys.Retrieval;

namespace RecSys.Tests;

/// <summary>Small generated worlds, cached per size, and services wired exactly as the host wires them.</summary>
internal static class TestWorld
{
    public static readonly DateTimeOffset Anchor = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly Lazy<DemoWorld> SmallWorld = new(() => DemoWorldGenerator.Generate(SmallOptions()));

    public static DemoOptions SmallOptions(int seed = 7) => new()
    {
        Seed = seed,
        Items = 3000,
        Users = 400,
        SessionsPerUser = 6,
        Dimensions = 16,
        Categories = 12,
        Anchor = Anchor,
    };

    /// <summary>A 3,000-item, 400-user world shared by tests that only read it.</summary>
    public static DemoWorld Small => SmallWorld.Value;

    /// <summary>Every module registered as the service registers them, the world loaded, and the clock at the world's anchor.</summary>
    public static async Task<ServiceProvider> CreateServicesAsync(DemoWorld world, Action<IServiceCollection>? configure = null, IDictionary<string, string?>? settings = null, bool loadCatalog = true)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton<TimeProvider>(new FixedClock(world.Anchor));
        services.AddCatalog(configuration).AddFeatures(configuration).AddRetrieval(configuration).AddRanking(configuration).AddReRanking(configuration).AddExperiments(configuration).AddPipeline(configuration);
        configure?.Invoke(services);
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        // An external catalog (Stores:Catalog=postgres) loads itself when its hosted service starts, as in the host.
        // Only then are hosted services started here, so that other modules' background services stay out of unit tests.
        if (!loadCatalog)
        {
            foreach (var hosted in provider.GetServices<Microsoft.Extensions.Hosting.IHostedService>()) await hosted.StartAsync(CancellationToken.None);
        }
        await DemoSeeder.LoadAsync(world, provider.GetRequiredService<ICatalogWriter>(), provider.GetRequiredService<ISocialGraphWriter>(),
            provider.GetRequiredService<IFeatureStore>(), provider.GetRequiredService<ItemEmbeddingStore>(), CancellationToken.None, loadCatalog,
            observers: provider.GetServices<RecSys.Events.IInteractionObserver>());
        return provider;
    }

    public sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
