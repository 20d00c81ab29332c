using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace RecSys.Pipeline;

public static class PipelineModule
{
    public static IServiceCollection AddPipeline(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PipelineOptions>().Bind(configuration.GetSection(PipelineOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<RecommendationPipeline>();
        return services;
    }
}
