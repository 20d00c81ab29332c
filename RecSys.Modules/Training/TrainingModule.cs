using Microsoft.Extensions.DependencyInjection;
using RecSys.Ranking;
using RecSys.Training.Serving;

namespace RecSys.Training;

/// <summary>What the service takes from training: the trained item vectors and their user fold-in, loaded with each model version.</summary>
public static class TrainingModule
{
    /// <summary>
    /// Registers the <see cref="IModelVersionPart"/> that publishes a model version's item vectors (mapped onto the
    /// catalog) to Retrieval's <c>ItemEmbeddingStore</c>, with the ALS fold-in they were trained with.
    /// </summary>
    public static IServiceCollection AddTrainedModels(this IServiceCollection services)
    {
        services.AddSingleton<TrainedItemVectors>();
        services.AddSingleton<IModelVersionPart>(sp => sp.GetRequiredService<TrainedItemVectors>());
        return services;
    }
}
