using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RecSys.ReRanking.Rules;

namespace RecSys.ReRanking;

public static class ReRankingModule
{
    public static IServiceCollection AddReRanking(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ReRankingOptions>().Bind(configuration.GetSection(ReRankingOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<ReRankingOptions>, RulesValidator>();
        services.AddSingleton<IReRanker, ChainReRanker>();
        services.AddSingleton<ColdStartQuery>();
        services.AddSingleton<ContextEngagement>();
        services.AddSingleton<RecSys.Events.IInteractionObserver>(sp => sp.GetRequiredService<ContextEngagement>());
        return services;
    }

    /// <summary>Compiles the configured chain at start-up so a bad rule stops the service with its index, type and parameter.</summary>
    private sealed class RulesValidator : IValidateOptions<ReRankingOptions>
    {
        public ValidateOptionsResult Validate(string? name, ReRankingOptions options)
        {
            try
            {
                _ = new ChainReRanker(options, _ => -1);
                return ValidateOptionsResult.Success;
            }
            catch (ArgumentException ex)
            {
                return ValidateOptionsResult.Fail(ex.Message);
            }
        }
    }
}
