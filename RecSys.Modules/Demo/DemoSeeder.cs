using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RecSys.Catalog;
using RecSys.Features;
using RecSys.Retrieval;

namespace RecSys.Demo;

/// <summary>
/// At start-up, generates the demo world in the background and loads it into the embedded stores: catalog, social
/// graph, online store (by replaying the log) and item vectors. Readiness turns healthy when it finishes.
/// External stores are never written here: with <c>Stores:Catalog=postgres</c> the catalog and social graph come from
/// PostgreSQL, and with <c>Stores:Online=redis</c> the online store is Redis; the <c>load</c> verb fills those. The
/// seeder then only publishes the world's item vectors.
/// </summary>
internal sealed partial class DemoSeeder(
    IOptions<DemoOptions> options,
    DemoWorldSource worlds,
    ICatalogWriter catalog,
    ISocialGraphWriter socialGraph,
    IFeatureStore featureStore,
    ItemEmbeddingStore embeddings,
    IOptions<CatalogStoreOptions> catalogStore,
    IOptions<OnlineStoreOptions> onlineStore,
    IEnumerable<RecSys.Events.IInteractionObserver> observers,
    ILogger<DemoSeeder> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (!o.Enabled)
        {
            LogDisabled();
            return;
        }
        // Leave the start-up path at once: generation is CPU-bound and takes seconds.
        await Task.Yield();
        try
        {
            var watch = Stopwatch.StartNew();
            LogGenerating(o.Items, o.Users, o.Seed);
            // Shared with the first-run trainer, which trains on the same world: generated once.
            var world = await worlds.GetAsync(new Progress(this), stoppingToken);
            var loadCatalog = !catalogStore.Value.UsesPostgres;
            var loadOnline = !onlineStore.Value.UsesRedis;
            if (!loadCatalog || !loadOnline) LogExternalStores(catalogStore.Value.Catalog, onlineStore.Value.Online);
            await LoadAsync(world, catalog, socialGraph, featureStore, embeddings, stoppingToken, loadCatalog, loadOnline, observers);
            worlds.Release();
            LogLoaded(world.Version, world.Items.Count, world.Users.Count, world.Interactions.Length, watch.Elapsed.TotalSeconds);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            LogFailed(ex);
            throw;
        }
    }

    /// <summary>Loads a world into the stores; the online store last, since it marks the service ready.</summary>
    public static async Task LoadAsync(DemoWorld world, ICatalogWriter catalog, ISocialGraphWriter socialGraph, IFeatureStore featureStore,
        ItemEmbeddingStore embeddings, CancellationToken cancellationToken, bool loadCatalog = true, bool loadOnlineStore = true,
        IEnumerable<RecSys.Events.IInteractionObserver>? observers = null)
    {
        // The world's log also seeds what observes interactions (the cold-start context's time-of-day centroids); the
        // demo log has no device, so device centroids come only from events that report one.
        foreach (var observer in observers ?? [])
        {
            foreach (var interaction in world.Interactions) observer.Observe(interaction, null, world.Users[interaction.UserIndex].Region);
        }
        if (loadCatalog)
        {
            catalog.Load(world.ToCatalogSnapshot());
            socialGraph.Load(world.Users.Count, world.Edges);
        }
        // A fallback: a trained model's vectors (published first, or waiting for this catalog) take precedence.
        embeddings.PublishFallback(new ItemEmbeddings(world.Version, world.Dimensions, world.ItemVectors));
        if (loadOnlineStore)
        {
            await featureStore.ApplyAsync(world.Interactions, cancellationToken);
            featureStore.MarkLoaded(world.Users.Count, world.Items.Count);
        }
    }

    private sealed class Progress(DemoSeeder seeder) : IProgress<string>
    {
        public void Report(string value) => seeder.LogProgress(value);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo world disabled (Demo:Enabled=false): the stores must be loaded by another source")]
    private partial void LogDisabled();

    [LoggerMessage(Level = LogLevel.Information, Message = "External stores (Stores:Catalog={Catalog}, Stores:Online={Online}): the demo seeder leaves them to the 'load' verb and publishes only the item vectors of the same world")]
    private partial void LogExternalStores(string catalog, string online);

    [LoggerMessage(Level = LogLevel.Information, Message = "Generating the demo world: {Items} items, {Users} users, seed {Seed}")]
    private partial void LogGenerating(int items, int users, int seed);

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo world: generated {What}")]
    private partial void LogProgress(string what);

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo world {Version} loaded: {Items} items, {Users} users, {Events} events in {Seconds:0.0} s; ready")]
    private partial void LogLoaded(string version, int items, int users, int events, double seconds);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Loading the demo world failed")]
    private partial void LogFailed(Exception exception);
}
