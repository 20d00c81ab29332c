using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace RecSys.Tests.Integration;

/// <summary>The real service over the real HTTP pipeline, on a small demo world, started once per test class.</summary>
public sealed class RecSysFactory : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder) => builder.UseSmallDemoWorld();
}

/// <summary>The service on the small demo world with a test's own settings on top (one factory per test, not per class).</summary>
public sealed class ServiceFactory(Action<IWebHostBuilder>? configure = null) : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSmallDemoWorld();
        configure?.Invoke(builder);
    }
}

/// <summary>Plumbing shared by every test that hosts the service.</summary>
internal static class TestHost
{
    /// <summary>The small demo world of <see cref="TestWorld.SmallOptions"/>'s shape: generated and indexed in about a second.</summary>
    public static IWebHostBuilder UseSmallDemoWorld(this IWebHostBuilder builder)
    {
        builder.UseSetting("Demo:Items", "3000");
        builder.UseSetting("Demo:Users", "400");
        builder.UseSetting("Demo:Dimensions", "16");
        builder.UseSetting("Demo:Categories", "12");
        builder.UseSetting("Demo:Anchor", TestWorld.Anchor.ToString("o"));
        // Tests bring their own models folders; none trains demo models in the test binaries' folder.
        builder.UseSetting("Training:TrainOnFirstRun", "false");
        return builder;
    }

    /// <summary>Serves the model versions of <paramref name="modelsDirectory"/> on the CPU, with an admin key for reloads.</summary>
    public static IWebHostBuilder UseModels(this IWebHostBuilder builder, string modelsDirectory, string adminKey = "ops")
    {
        builder.UseSetting("Ranking:ModelsDirectory", modelsDirectory);
        builder.UseSetting("Ranking:ExecutionProvider", "cpu");
        builder.UseSetting("Admin:Key", adminKey);
        return builder;
    }

    /// <summary>A client of a service that has finished loading (polls /health/ready, as a load balancer would).</summary>
    public static async Task<HttpClient> ReadyClientAsync(this WebApplicationFactory<Program> factory, TimeSpan? timeout = null)
    {
        var client = factory.CreateClient();
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            using var response = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));
            if (response.IsSuccessStatusCode) return client;
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The service did not become ready: " + await response.Content.ReadAsStringAsync());
            await Task.Delay(50);
        }
    }
}
