using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RecSys.Ranking;
using RecSys.Ranking.Onnx;

namespace RecSys.Tests.Ranking;

public class ModelWatcherTests
{
    [Fact]
    public async Task With_WatchModels_a_new_current_version_is_swapped_in()
    {
        using var folder = new ModelFolder();
        string[] features = ["item_ctr", "ann_similarity", "language_match"];
        var weights = new Dictionary<string, double> { ["p_click"] = 1 };
        folder.Write("a", features, null, RankerNetwork.Random(3, 0, [], [("p_click", HeadActivation.Sigmoid)], 1), weights);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Ranking:ModelsDirectory"] = folder.Root,
            ["Ranking:ExecutionProvider"] = "cpu",
            ["Ranking:WatchModels"] = "true",
        }).Build();
        var services = new ServiceCollection().AddLogging().AddRanking(configuration);
        await using var provider = services.BuildServiceProvider();
        var hosted = provider.GetServices<IHostedService>().ToList();
        foreach (var service in hosted) await service.StartAsync(default);
        var models = provider.GetRequiredService<IRankingModels>();
        Assert.Equal("a", models.Status.Version);

        folder.Write("b", features, null, RankerNetwork.Random(3, 0, [], [("p_click", HeadActivation.Sigmoid)], 2), weights);
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (models.Status.Version != "b" && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.Equal("b", models.Status.Version);
        foreach (var service in hosted) await service.StopAsync(default);
    }
}
