using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using RecSys.Ranking;
using RecSys.Training.Serving;

namespace RecSys.Training;

/// <summary>What the service takes from training: the trained item vectors and their user fold-in, loaded with each model version.</summary>
public static class TrainingModule
{
    /// <summary>
    /// Registers the <see cref="IModelVersionPart"/> that publishes a model version's item vectors (mapped onto the
    /// catalog) to Retrieval's <c>ItemEmbeddingStore</c>, with the ALS fold-in they were trained with; and the
    /// first-run training of the demo models (<see cref="TrainingServiceOptions.TrainOnFirstRun"/>).
    /// </summary>
    public static IServiceCollection AddTrainedModels(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<TrainingServiceOptions>().Bind(configuration.GetSection(TrainingServiceOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<TrainedItemVectors>();
        services.AddSingleton<IModelVersionPart>(sp => sp.GetRequiredService<TrainedItemVectors>());
        services.TryAddSingleton<RecSys.Demo.DemoWorldSource>();
        services.AddSingleton<FirstRunTrainer>();
        services.AddHostedService(sp => sp.GetRequiredService<FirstRunTrainer>());
        services.AddHealthChecks().AddCheck<FirstRunTrainingCheck>("first-run-training", tags: ["ready"]);
        return services;
    }
}
