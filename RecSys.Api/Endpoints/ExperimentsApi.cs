using RecSys.Api.Contracts;
using RecSys.Experiments;

namespace RecSys.Api.Endpoints;

public static class ExperimentsApi
{
    public static IEndpointRouteBuilder MapExperimentsApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/experiments").WithTags("Experiments")
            .MapGet("", (IExperiments experiments) => TypedResults.Ok(List(experiments)))
            .WithName("GetExperiments")
            .WithSummary("The running experiments")
            .WithDescription("Each experiment's name, traffic share and variants with their overrides. Users are assigned by hashing their id with the experiment's salt.")
            .Produces<IReadOnlyList<ExperimentResponse>>(StatusCodes.Status200OK);
        return app;
    }

    internal static IReadOnlyList<ExperimentResponse> List(IExperiments experiments) =>
        [.. experiments.Running.Select(e => new ExperimentResponse(e.Name, e.TrafficShare,
            [.. e.Variants.Select(v => new VariantResponse(v.Name, v.Weight, [.. v.ReRankingRules.Select(r => r.Type)], v.AnnCount, v.PopularCount, string.IsNullOrWhiteSpace(v.ModelVersion) ? null : v.ModelVersion.Trim()))]))];
}
