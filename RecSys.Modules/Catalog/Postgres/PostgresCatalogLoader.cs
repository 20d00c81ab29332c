using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace RecSys.Catalog.Postgres;

/// <summary>
/// With <c>Stores:Catalog=postgres</c>: loads the catalog snapshot and social graph from PostgreSQL before the host
/// starts (a failure stops start-up with a message naming the database), then reloads them every
/// <see cref="CatalogStoreOptions.CatalogRefreshSeconds"/> when the tables changed. A failed refresh is logged and the
/// last snapshot keeps serving.
/// </summary>
internal sealed partial class PostgresCatalogLoader(
    NpgsqlDataSource dataSource,
    ICatalogWriter catalog,
    ISocialGraphWriter socialGraph,
    IOptions<CatalogStoreOptions> options,
    ILogger<PostgresCatalogLoader> logger) : IHostedService, IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _refreshLoop;
    private string _fingerprint = "";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await RefreshAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidDataException or InvalidOperationException or TimeoutException)
        {
            var where = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
            throw new InvalidOperationException(
                $"Stores:Catalog=postgres, but the catalog could not be loaded from PostgreSQL (host {where.Host}, port {where.Port}, database {where.Database}): {ex.Message} " +
                "Check ConnectionStrings:Postgres, that the server is up, and that the schema is migrated and loaded ('migrate' and 'load' verbs).", ex);
        }
        _refreshLoop = Task.Run(() => RefreshLoopAsync(_stopping.Token), CancellationToken.None);
    }

    /// <summary>Reloads when the tables changed; returns true when a new snapshot was published.</summary>
    internal async Task<bool> RefreshAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var fingerprint = await CatalogTables.FingerprintAsync(connection, cancellationToken);
        if (fingerprint == _fingerprint) return false;
        var (snapshot, edges) = await CatalogTables.ReadAsync(connection, cancellationToken);
        if (snapshot.Items.Count == 0) throw new InvalidDataException("the items table is empty.");
        catalog.Load(snapshot);
        socialGraph.Load(snapshot.Users.Count, edges);
        _fingerprint = fingerprint;
        LogLoaded(snapshot.Version, snapshot.Items.Count, snapshot.Users.Count, edges.Count);
        return true;
    }

    private async Task RefreshLoopAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.CatalogRefreshSeconds));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await RefreshAsync(stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    LogRefreshFailed(ex.GetType().Name, ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_refreshLoop is not null) await _refreshLoop.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Catalog {Version} loaded from PostgreSQL: {Items} items, {Users} users, {Edges} social edges")]
    private partial void LogLoaded(string version, int items, int users, int edges);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Catalog refresh from PostgreSQL failed ({ErrorType}: {Error}); the last snapshot keeps serving")]
    private partial void LogRefreshFailed(string errorType, string error);
}
