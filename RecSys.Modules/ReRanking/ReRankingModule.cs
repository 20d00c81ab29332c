using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RecSys.ReRanking.Rules;

namespace RecSys.ReRanking;

public static class ReRankingModule
{
    public static IServiceCollection AddReRanking(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ReRankingOptions>().Bind(configuration.GetSection(ReRankingOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IReRanker, CategoryCapReRanker>();
        return services;
    }
}
