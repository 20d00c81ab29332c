using Microsoft.AspNetCore.Http.HttpResults;
using RecSys.Api.Hosting;
using RecSys.Catalog;
using RecSys.Ranking;

namespace RecSys.Api.Endpoints;

/// <summary>Operating the ranker's models: what is served, and a hot reload of the version the models folder names.</summary>
public static class AdminApi
{
    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/admin/models").WithTags("Admin").RequireAdmin();
        group.MapGet("/", GetModels)
            .WithName("GetModels")
            .WithSummary("The ranking models being served")
            .WithDescription("Version, source manifest, execution provider, feature schema, each model's inputs and outputs with their weights, batch counters, and the last reload attempt.")
            .Produces<RankingModelsStatus>(StatusCodes.Status200OK);
        group.MapPost("/reload", ReloadAsync)
            .WithName("ReloadModels")
            .WithSummary("Load the version the models folder names and swap it in")
            .WithDescription("Loads, validates against its manifest and warms up the new version, then swaps it in atomically; requests in flight finish on the old one. A corrupt or mismatched version is refused with 422 and the old one keeps serving.")
            .Produces<RankingModelsStatus>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        group.MapGet("/registry", ListRegisteredAsync)
            .WithName("GetRegisteredModels")
            .WithSummary("The model versions in the registry")
            .WithDescription("Every registered version (newest first; ?name= for one model): path, metrics recorded by `train --register`, status (candidate, active, retired, rejected). 404 when no registry is configured (Stores:ModelRegistry=postgres).")
            .Produces<IReadOnlyList<RegisteredModel>>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    /// <summary>The ranking models being served.</summary>
    public static Ok<RankingModelsStatus> GetModels(IRankingModels models) => TypedResults.Ok(models.Status);

    /// <summary>The registered model versions, when a registry is configured.</summary>
    public static async Task<Results<Ok<IReadOnlyList<RegisteredModel>>, ProblemHttpResult>> ListRegisteredAsync(HttpContext http, string? name, CancellationToken cancellationToken)
    {
        if (http.RequestServices.GetService<IModelRegistry>() is not { } registry)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No model registry is configured.",
                detail: "Set Stores:ModelRegistry=postgres and ConnectionStrings:Postgres to read the model_registry table.");
        }
        try
        {
            return TypedResults.Ok(await registry.ListAsync(string.IsNullOrWhiteSpace(name) ? null : name, cancellationToken));
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "The model registry could not be read.", detail: ex.Message);
        }
    }

    /// <summary>Loads the version the models folder names and swaps it in.</summary>
    public static async Task<Results<Ok<RankingModelsStatus>, ProblemHttpResult>> ReloadAsync(IRankingModels models, CancellationToken cancellationToken)
    {
        try
        {
            return TypedResults.Ok(await models.ReloadAsync(cancellationToken));
        }
        catch (ModelRejectedException ex)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "The model version was refused; the previous version keeps serving.",
                detail: ex.Message, extensions: new Dictionary<string, object?> { ["servingVersion"] = models.Status.Version });
        }
    }
}
