using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Confluent.Kafka;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using RecSys.Api.Hosting;
using RecSys.Catalog;
using RecSys.Events;
using RecSys.Features;

namespace RecSys.Benchmarks.Events;

/// <summary>
/// <c>events [--bus inprocess|kafka|both] [--batches 400] [--batch-size 500] [--concurrency 4] [--samples 300]
/// [--items 100000] [--users 20000] [--Events:Key=value ...]</c>: the real service on a loopback port (Kestrel, the whole HTTP pipeline).
/// Throughput: concurrent clients post pre-built batches to <c>POST /events</c>; accepted events per second (202s),
/// then how long the consumer takes to apply them all. Delay: one click at a time, from sending the POST to the moment
/// the online store shows it (polled in-process), p50/p99. <c>kafka</c> runs against librdkafka's mock cluster.
/// </summary>
internal static class EventsBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var bus = Arg(args, "--bus", "both");
        var buses = bus == "both" ? new[] { "inprocess", "kafka" } : [bus];
        foreach (var b in buses) await RunOneAsync(b, args);
        return 0;
    }

    private static async Task RunOneAsync(string bus, string[] args)
    {
        var batches = int.Parse(Arg(args, "--batches", "400"), CultureInfo.InvariantCulture);
        var batchSize = int.Parse(Arg(args, "--batch-size", "500"), CultureInfo.InvariantCulture);
        var concurrency = int.Parse(Arg(args, "--concurrency", "4"), CultureInfo.InvariantCulture);
        var samples = int.Parse(Arg(args, "--samples", "300"), CultureInfo.InvariantCulture);
        var items = Arg(args, "--items", "100000");
        var users = Arg(args, "--users", "20000");

        using var cluster = bus == "kafka" ? new MockCluster() : null;
        var spool = Path.Combine(Path.GetTempPath(), "recsys-bench-spool-" + Guid.NewGuid().ToString("N"));
        var hostArgs = new List<string>
        {
            "--urls", "http://127.0.0.1:0", "--Serilog:MinimumLevel:Default=Warning", "--Serilog:MinimumLevel:Override:Microsoft.Hosting.Lifetime=Warning",
            "--Serilog:MinimumLevel:Override:Microsoft.Extensions.Diagnostics.HealthChecks=Fatal", $"--Demo:Items={items}", $"--Demo:Users={users}",
            $"--Events:Bus={bus}", $"--Events:Kafka:SpoolDirectory={spool}", "--Events:Kafka:SessionTimeoutMilliseconds=6000",
            "--Training:TrainOnFirstRun=false", // no model training competing with the measured events
        };
        if (cluster is not null) hostArgs.Add($"--Events:Kafka:BootstrapServers={cluster.BootstrapServers}");
        hostArgs.AddRange(args.Where(a => a.StartsWith("--Events:", StringComparison.Ordinal) && a.Contains('='))); // e.g. --Events:Kafka:FetchWaitMaxMilliseconds=10

        await using var app = ServiceHost.Build([.. hostArgs]);
        await app.StartAsync();
        try
        {
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency * 2 }) { BaseAddress = new Uri(address) };
            var watch = Stopwatch.StartNew();
            while (!(await http.GetAsync(new Uri("/health/ready", UriKind.Relative))).IsSuccessStatusCode) await Task.Delay(200);
            Console.WriteLine($"[{bus}] service ready in {watch.Elapsed.TotalSeconds:0.0} s at {address}");

            var catalog = app.Services.GetRequiredService<ICatalog>();
            var store = app.Services.GetRequiredService<IFeatureStore>();
            var eventBus = app.Services.GetRequiredService<IEventBus>();

            // Warm-up, which for Kafka also waits for the consumer group to form.
            await DelayOnceAsync(http, store, catalog, "warm", 0, TimeSpan.FromSeconds(60));

            // 1. Sustained accepted events per second.
            var payloads = BuildBatches(batches, batchSize, catalog, bus);
            var appliedBefore = eventBus.Status.Applied;
            var next = -1;
            watch.Restart();
            var senders = Enumerable.Range(0, concurrency).Select(async _ =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < payloads.Length)
                {
                    using var content = new ByteArrayContent(payloads[i]);
                    content.Headers.ContentType = new("application/json");
                    using var response = await http.PostAsync(new Uri("/events", UriKind.Relative), content);
                    if (response.StatusCode != HttpStatusCode.Accepted) throw new InvalidOperationException($"POST /events answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                }
            }).ToArray();
            await Task.WhenAll(senders);
            var accepted = watch.Elapsed;
            var total = (long)batches * batchSize;
            while (eventBus.Status.Applied - appliedBefore < total) await Task.Delay(5);
            var applied = watch.Elapsed;
            Console.WriteLine($"[{bus}] {total:N0} events in {batches} batches of {batchSize}, {concurrency} concurrent clients:");
            Console.WriteLine($"[{bus}]   accepted (202) {total / accepted.TotalSeconds,12:N0} events/s  ({accepted.TotalSeconds:0.00} s)");
            Console.WriteLine($"[{bus}]   applied        {total / applied.TotalSeconds,12:N0} events/s  (all applied after {applied.TotalSeconds:0.00} s)");

            // 2. Delay from POST to the store showing the event, one click at a time.
            var delays = new double[samples];
            for (var s = 0; s < samples; s++) delays[s] = (await DelayOnceAsync(http, store, catalog, bus, s + 1, TimeSpan.FromSeconds(30))).TotalMilliseconds;
            Array.Sort(delays);
            Console.WriteLine($"[{bus}] POST -> store delay over {samples} single clicks: p50 {At(delays, 0.5):0.00} ms, p99 {At(delays, 0.99):0.00} ms, max {delays[^1]:0.00} ms");
            Console.WriteLine($"[{bus}] bus status: {eventBus.Status}");
        }
        finally
        {
            await app.StopAsync();
            if (Directory.Exists(spool)) Directory.Delete(spool, recursive: true);
        }
    }

    /// <summary>Posts one click on an item no one else touches meanwhile and waits until its click counter moves.</summary>
    private static async Task<TimeSpan> DelayOnceAsync(HttpClient http, IFeatureStore store, ICatalog catalog, string tag, int sample, TimeSpan limit)
    {
        var item = catalog.GetItem((sample * 7919) % catalog.ItemCount);
        var stats = new ItemStats[1];
        var index = new[] { item.Index };
        await store.GetItemStatsAsync(index, stats, default);
        var before = stats[0].Clicks;
        var body = $"{{\"events\":[{Row($"delay-{tag}-{sample}-{Guid.NewGuid():N}", "u_1", item.Id, "click")}]}}";
        var started = Stopwatch.GetTimestamp();
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(new Uri("/events", UriKind.Relative), content);
        if (response.StatusCode != HttpStatusCode.Accepted) throw new InvalidOperationException($"POST /events answered {(int)response.StatusCode}");
        while (true)
        {
            await store.GetItemStatsAsync(index, stats, default);
            if (stats[0].Clicks > before) return Stopwatch.GetElapsedTime(started);
            if (Stopwatch.GetElapsedTime(started) > limit) throw new TimeoutException($"the click on {item.Id} was not applied within {limit}");
            Thread.SpinWait(50);
        }
    }

    private static byte[][] BuildBatches(int batches, int batchSize, ICatalog catalog, string tag)
    {
        string[] types = ["view", "view", "impression", "click", "like", "dwell"];
        var random = new Random(42);
        var now = DateTimeOffset.UtcNow.ToString("o", CultureInfo.InvariantCulture);
        var result = new byte[batches][];
        var users = catalog.ItemCount; // only used to spread ids
        for (var b = 0; b < batches; b++)
        {
            var sb = new StringBuilder("{\"events\":[");
            for (var i = 0; i < batchSize; i++)
            {
                if (i > 0) sb.Append(',');
                var type = types[random.Next(types.Length)];
                var item = catalog.GetItem(random.Next(catalog.ItemCount)).Id;
                sb.Append(Row($"bench-{tag}-{b}-{i}", $"u_{random.Next(Math.Min(users, 20_000))}", item, type, type == "dwell" ? random.Next(1, 120) : null, now));
            }
            result[b] = Encoding.UTF8.GetBytes(sb.Append("]}").ToString());
        }
        return result;
    }

    private static string Row(string id, string user, string item, string type, int? value = null, string? at = null) =>
        $"{{\"eventId\":\"{id}\",\"userId\":\"{user}\",\"itemId\":\"{item}\",\"type\":\"{type}\"{(value is null ? "" : $",\"value\":{value}")},"
        + $"\"timestamp\":\"{at ?? DateTimeOffset.UtcNow.ToString("o", CultureInfo.InvariantCulture)}\",\"context\":{{\"device\":\"mobile\",\"region\":\"us\",\"language\":\"en\"}}}}";

    private static double At(double[] sorted, double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];

    private static string Arg(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    /// <summary>librdkafka's mock cluster, alive while this owner lives.</summary>
    private sealed class MockCluster : IDisposable
    {
        private readonly IProducer<Null, Null> _owner;

        public MockCluster()
        {
            var config = new ProducerConfig { BootstrapServers = "unused:9092" };
            config.Set("test.mock.num.brokers", "1");
            _owner = new ProducerBuilder<Null, Null>(config).SetLogHandler((_, _) => { }).Build();
            using var admin = new DependentAdminClientBuilder(_owner.Handle).Build();
            var broker = admin.GetMetadata(TimeSpan.FromSeconds(10)).Brokers.Single();
            BootstrapServers = $"{broker.Host}:{broker.Port}";
        }

        public string BootstrapServers { get; }

        public void Dispose() => _owner.Dispose();
    }
}
