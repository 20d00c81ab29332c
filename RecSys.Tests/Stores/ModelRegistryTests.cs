using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using RecSys.Catalog;
using RecSys.Tests.Integration;

namespace RecSys.Tests.Stores;

/// <summary>The model registry against real PostgreSQL, and its admin endpoint through the HTTP pipeline.</summary>
public sealed class ModelRegistryTests
{
    [Fact]
    public async Task Versions_register_as_candidates_and_one_active_per_name_moves_on_activation()
    {
        await using var db = await TestDatabase.CreateAsync();
        var registry = PostgresCatalog.ModelRegistry(db.ConnectionString);
        var first = await registry.RegisterAsync("recsys", "v1", "/models/v1", new Dictionary<string, double> { ["als.recall@20"] = 0.21, ["ranker.auc"] = double.NaN }, default);
        Assert.Equal(ModelStatus.Candidate, first.Status);
        Assert.Equal(new Dictionary<string, double> { ["als.recall@20"] = 0.21 }, first.Metrics); // NaN has no place in jsonb: left out
        await registry.RegisterAsync("recsys", "v2", "/models/v2", new Dictionary<string, double> { ["als.recall@20"] = 0.25 }, default);
        await registry.RegisterAsync("other", "v1", "/elsewhere/v1", new Dictionary<string, double>(), default);

        Assert.Equal(ModelStatus.Active, (await registry.ActivateAsync("recsys", "v1", default)).Status);
        await registry.ActivateAsync("other", "v1", default);
        Assert.Equal(ModelStatus.Active, (await registry.ActivateAsync("recsys", "v2", default)).Status);
        var listed = await registry.ListAsync("recsys", default);
        Assert.Equal(["v2", "v1"], listed.Select(m => m.Version));
        Assert.Equal([ModelStatus.Active, ModelStatus.Retired], listed.Select(m => m.Status));
        Assert.Equal("v2", (await registry.GetActiveAsync("recsys", default))?.Version);
        Assert.Equal("v1", (await registry.GetActiveAsync("other", default))?.Version); // names are independent
        Assert.Equal(3, (await registry.ListAsync(null, default)).Count);

        // Registering again updates path and metrics and keeps the status; an unknown version cannot be activated.
        var again = await registry.RegisterAsync("recsys", "v2", "/moved/v2", new Dictionary<string, double> { ["als.recall@20"] = 0.3 }, default);
        Assert.Equal((ModelStatus.Active, "/moved/v2", 0.3), (again.Status, again.Path, again.Metrics["als.recall@20"]));
        var missing = await Assert.ThrowsAsync<KeyNotFoundException>(() => registry.ActivateAsync("recsys", "v9", default));
        Assert.Contains("v9", missing.Message, StringComparison.Ordinal);
        Assert.Equal("v2", (await registry.GetActiveAsync("recsys", default))?.Version);
    }

    private static ServiceFactory Factory(string? registry) => new(b =>
    {
        b.UseSetting("Admin:Key", "ops");
        if (registry is not null) b.UseSetting("Stores:ModelRegistry", "postgres").UseSetting("ConnectionStrings:Postgres", registry);
    });

    [Fact]
    public async Task The_admin_endpoint_lists_registered_versions_only_to_admins_and_says_when_no_registry_is_configured()
    {
        await using var db = await TestDatabase.CreateAsync();
        var registry = PostgresCatalog.ModelRegistry(db.ConnectionString);
        await registry.RegisterAsync("recsys", "20261121-000000", "/models/a", new Dictionary<string, double> { ["ranker.auc"] = 0.71 }, default);
        await registry.ActivateAsync("recsys", "20261121-000000", default);

        await using (var factory = Factory(db.ConnectionString))
        {
            var client = factory.CreateClient();
            Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync(new Uri("/admin/models/registry", UriKind.Relative))).StatusCode);
            client.DefaultRequestHeaders.Add("X-Admin-Key", "ops");
            var response = await client.GetAsync(new Uri("/admin/models/registry?name=recsys", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var rows = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            var row = Assert.Single(rows.EnumerateArray());
            Assert.Equal("active", row.GetProperty("status").GetString());
            Assert.Equal(0.71, row.GetProperty("metrics").GetProperty("ranker.auc").GetDouble());
        }
        await using (var factory = Factory(null))
        {
            var client = factory.CreateClient();
            client.DefaultRequestHeaders.Add("X-Admin-Key", "ops");
            var response = await client.GetAsync(new Uri("/admin/models/registry", UriKind.Relative));
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Contains("Stores:ModelRegistry", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }
}
