using Microsoft.Extensions.Configuration.EnvironmentVariables;
using RecSys.Api.Endpoints;
using RecSys.Catalog;
using RecSys.Demo;
using RecSys.Events;
using RecSys.Experiments;
using RecSys.Features;
using RecSys.Pipeline;
using RecSys.Ranking;
using RecSys.ReRanking;
using RecSys.Retrieval;
using RecSys.Training;

namespace RecSys.Api.Hosting;

/// <summary>The composition root: one <c>Add*</c> call per module, then the endpoint groups.</summary>
public static class ServiceHost
{
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        AddRootSettings(builder.Configuration);
        builder.AddSerilogLogging();

        var configuration = builder.Configuration;
        builder.Services
            .AddCatalog(configuration)
            .AddFeatures(configuration)
            .AddRetrieval(configuration)
            .AddRanking(configuration)
            .AddTrainedModels(configuration)
            .AddReRanking(configuration).AddExperiments(configuration)
            .AddPipeline(configuration)
            .AddDemo(configuration)
            .AddEvents(configuration)
            .AddApiServices(configuration);

        var app = builder.Build();
        app.UseRequestLogging();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseApiDocs();

        app.MapRecommendationsApi();
        app.MapItemsApi();
        app.MapEventsApi();
        app.MapHealthApi();
        app.MapAdminApi();
        app.MapExperimentsApi();
        return app;
    }

    /// <summary>
    /// Reads the root <c>appsettings.json</c> (copied beside the binaries) whatever the working directory, placed before
    /// the environment variables and command-line arguments so that those still override it.
    /// </summary>
    private static void AddRootSettings(ConfigurationManager configuration)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "appsettings.json");
        if (!File.Exists(path)) return;
        var sources = configuration.Sources;
        var index = sources.Count;
        for (var i = 0; i < sources.Count; i++)
        {
            if (sources[i] is EnvironmentVariablesConfigurationSource { Prefix: null or "" }) index = i;
        }
        var json = new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource { Path = path, Optional = false, ReloadOnChange = false };
        json.ResolveFileProvider();
        sources.Insert(index, json);
    }
}
