using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace RecSys.Tests.Stores;

/// <summary>
/// The real servers <c>./scripts/test</c> starts for the store tests. A test that needs one and finds its variable
/// unset fails with a message saying how to run it; it never skips silently.
/// </summary>
internal static class TestServers
{
    private static string Required(string variable, string what) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{variable} is not set: the {what} tests need the private servers that ./scripts/test starts (run ./scripts/test, or ./scripts/test --filter FullyQualifiedName~Stores).");

    /// <summary><c>host:port</c> of the shared test Redis.</summary>
    public static string Redis => Required("RECSYS_TEST_REDIS", "Redis");

    /// <summary>The Npgsql connection string of the test PostgreSQL (database <c>recsys</c>).</summary>
    public static string Postgres => Required("RECSYS_TEST_POSTGRES", "PostgreSQL");

    public static string RedisServerBinary => Required("RECSYS_TEST_REDIS_SERVER", "Redis");

    public static string RedisDirectory => Required("RECSYS_TEST_REDIS_DIR", "Redis");

    /// <summary>A key prefix no other test uses, so tests share one Redis without seeing each other's keys.</summary>
    public static string UniquePrefix() => $"t{Guid.NewGuid():N}:"[..14];
}

/// <summary>
/// A Redis server of the test's own, which it may stop, restart and freeze (SIGSTOP) without disturbing other tests.
/// Its directory lies under the one <c>./scripts/test</c> removes, which also kills it if the test run dies.
/// </summary>
internal sealed class PrivateRedis : IDisposable
{
    private readonly string _directory;
    private readonly string _pidFile;

    public PrivateRedis()
    {
        _directory = Path.Combine(TestServers.RedisDirectory, "private-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_directory);
        _pidFile = Path.Combine(_directory, "redis.pid");
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Start();
    }

    public int Port { get; }

    public string Address => $"127.0.0.1:{Port}";

    public void Start()
    {
        Run(TestServers.RedisServerBinary, $"--port {Port} --bind 127.0.0.1 --save \"\" --appendonly no --dir {_directory} --daemonize yes --pidfile {_pidFile} --logfile {_directory}/redis.log");
        WaitUntil(() => CanConnect(), "redis-server to accept connections");
    }

    /// <summary>Kills the server (SIGKILL) and waits until the port is closed.</summary>
    public void Kill()
    {
        var pid = Pid();
        Run("kill", $"-9 {pid}");
        WaitUntil(() => !CanConnect(), "redis-server to die");
        File.Delete(_pidFile);
    }

    public void Freeze() => Run("kill", $"-STOP {Pid()}");

    public void Thaw() => Run("kill", $"-CONT {Pid()}");

    private int Pid()
    {
        WaitUntil(() => File.Exists(_pidFile) && File.ReadAllText(_pidFile).Trim().Length > 0, "the redis pid file");
        return int.Parse(File.ReadAllText(_pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private bool CanConnect()
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static void Run(string file, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{file} {arguments} failed: {process.StandardError.ReadToEnd()}");
    }

    private static void WaitUntil(Func<bool> condition, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(10)) throw new TimeoutException($"Timed out waiting for {what}.");
            Thread.Sleep(20);
        }
    }

    public void Dispose()
    {
        try
        {
            if (File.Exists(_pidFile))
            {
                Thaw();
                Kill();
            }
        }
        catch (InvalidOperationException)
        {
        }
    }
}
