using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RecSys.Features;
using RecSys.Ranking.Linear;

namespace RecSys.Ranking;

public static class RankingModule
{
    public static IServiceCollection AddRanking(this IServiceCollection services, IConfiguration configuration)
    {
        // TEMPORARY: the linear scorer serves until the ONNX ranker (and its Ranking section) lands.
        services.AddSingleton<IRanker>(sp => new LinearScorer(sp.GetRequiredService<FeatureAssembler>().Schema));
        return services;
    }
}
