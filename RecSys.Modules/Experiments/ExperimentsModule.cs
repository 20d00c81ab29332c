using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RecSys.Experiments.Assignment;

namespace RecSys.Experiments;

public static class ExperimentsModule
{
    public static IServiceCollection AddExperiments(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ExperimentsOptions>().Bind(configuration.GetSection(ExperimentsOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<ExperimentsOptions>, ExperimentsValidator>();
        services.AddSingleton<IExperiments, HashedExperiments>();
        services.AddSingleton<RecSys.Ranking.IModelVersionRequirements, VariantModelVersions>();
        return services;
    }
}
