using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using RecSys.Events.Bus;
using RecSys.Events.Consumer;
using RecSys.Events.Impressions;
using RecSys.Events.Kafka;

namespace RecSys.Events;

public static class EventsModule
{
    /// <summary>
    /// The bus chosen by <c>Events:Bus</c>, its consumer, the impression writer and the <c>events</c> health check. An
    /// <see cref="IEventLog"/> registered by another module is appended to by the consumer.
    /// </summary>
    public static IServiceCollection AddEvents(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<EventsOptions>().Bind(configuration.GetSection(EventsOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<KafkaOptions>().Bind(configuration.GetSection($"{EventsOptions.SectionName}:Kafka")).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<EventLogOptions>().Bind(configuration.GetSection(EventLogOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        if (string.Equals(configuration.GetSection(EventLogOptions.SectionName)[nameof(EventLogOptions.EventLog)], "postgres", StringComparison.Ordinal))
        {
            var connectionString = configuration.GetConnectionString("Postgres");
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                throw new InvalidOperationException("Stores:EventLog is 'postgres' but ConnectionStrings:Postgres is not set (an Npgsql connection string; environment: ConnectionStrings__Postgres).");
            }
            services.TryAddSingleton(_ => Npgsql.NpgsqlDataSource.Create(connectionString));
            services.AddSingleton<IEventLog, Postgres.PostgresEventLog>();
        }
        services.AddSingleton<EventStats>();
        services.AddSingleton<EventApplier>();
        services.AddSingleton<InProcessEventBus>();
        services.AddSingleton<InProcessConsumer>();
        services.AddSingleton<KafkaEventBus>();
        services.AddSingleton<KafkaEventConsumer>();
        // Chosen when first resolved, so that configuration added after registration (tests, command line) decides.
        services.AddSingleton<IEventBus>(sp => IsKafka(sp) ? sp.GetRequiredService<KafkaEventBus>() : sp.GetRequiredService<InProcessEventBus>());
        services.AddSingleton<ImpressionWriter>();
        services.AddSingleton<IImpressionSink>(sp => sp.GetRequiredService<ImpressionWriter>());
        services.AddHostedService<EventsBackgroundService>();
        services.AddHealthChecks().AddCheck<EventBusHealthCheck>("events", tags: ["ready"]);
        return services;
    }

    private static bool IsKafka(IServiceProvider sp) => sp.GetRequiredService<IOptions<EventsOptions>>().Value.Bus == "kafka";

    /// <summary>Runs the consumer of the chosen bus, the spool replay (Kafka) and the impression writer.</summary>
    private sealed class EventsBackgroundService(IServiceProvider services) : BackgroundService
    {
        protected override Task ExecuteAsync(CancellationToken stoppingToken)
        {
            var bus = services.GetRequiredService<IEventBus>();
            var loops = new List<Task> { services.GetRequiredService<ImpressionWriter>().RunAsync(bus, stoppingToken) };
            if (bus is KafkaEventBus kafka)
            {
                loops.Add(kafka.RunReplayAsync(stoppingToken));
                loops.Add(services.GetRequiredService<KafkaEventConsumer>().RunAsync(stoppingToken));
            }
            else
            {
                loops.Add(services.GetRequiredService<InProcessConsumer>().RunAsync(stoppingToken));
            }
            return Task.WhenAll(loops);
        }
    }

    /// <summary>Healthy while Kafka takes events directly; degraded (still 200) while accepted events wait in the spool.</summary>
    private sealed class EventBusHealthCheck(IEventBus bus) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var s = bus.Status;
            var data = new Dictionary<string, object>
            {
                ["bus"] = s.Bus,
                ["brokerReachable"] = s.BrokerReachable,
                ["spoolBacklog"] = s.SpoolBacklog,
                ["published"] = s.Published,
                ["applied"] = s.Applied,
                ["duplicates"] = s.Duplicates,
                ["impressionsDropped"] = s.ImpressionsDropped,
            };
            var description = $"bus {s.Bus}: spool backlog {s.SpoolBacklog}, published {s.Published}, applied {s.Applied}, duplicates {s.Duplicates}, impressions dropped {s.ImpressionsDropped}";
            return Task.FromResult(s.SpoolBacklog > 0 || !s.BrokerReachable
                ? HealthCheckResult.Degraded(description, data: data)
                : HealthCheckResult.Healthy(description, data));
        }
    }
}
