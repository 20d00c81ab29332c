using System.Globalization;

namespace RecSys.Features.Redis.Resp;

/// <summary>
/// Where and how to connect, parsed from <c>host:port[,password=...][,db=N][,connectTimeout=ms][,commandTimeout=ms]</c>
/// (or <c>unix:/path/redis.sock[,...]</c> for a Unix socket).
/// </summary>
internal sealed record RedisEndpoint(string Host, int Port, string? UnixSocketPath, string? Password, int Database, TimeSpan ConnectTimeout, TimeSpan CommandTimeout)
{
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan DefaultCommandTimeout = TimeSpan.FromSeconds(1);

    public static RedisEndpoint Parse(string connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString)) throw new FormatException("The Redis connection string is empty; expected host:port[,password=...][,db=N].");
        var parts = connectionString.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        string host = "";
        var port = 6379;
        string? unix = null;
        if (parts[0].StartsWith("unix:", StringComparison.OrdinalIgnoreCase))
        {
            unix = parts[0]["unix:".Length..];
        }
        else
        {
            var address = parts[0];
            var colon = address.LastIndexOf(':');
            host = colon < 0 ? address : address[..colon];
            if (colon >= 0 && (!int.TryParse(address[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
            {
                throw new FormatException($"The Redis connection string '{Redact(connectionString)}' has an invalid port; expected host:port.");
            }
            if (host.Length == 0) throw new FormatException($"The Redis connection string '{Redact(connectionString)}' has no host; expected host:port.");
        }
        string? password = null;
        var db = 0;
        var connect = DefaultConnectTimeout;
        var command = DefaultCommandTimeout;
        foreach (var part in parts.AsSpan(1))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0) throw new FormatException($"The Redis connection string option '{part}' is not key=value.");
            var key = part[..eq].Trim();
            var value = part[(eq + 1)..].Trim();
            switch (key.ToLowerInvariant())
            {
                case "password": password = value; break;
                case "db" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var d): db = d; break;
                case "connecttimeout" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms > 0: connect = TimeSpan.FromMilliseconds(ms); break;
                case "commandtimeout" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms > 0: command = TimeSpan.FromMilliseconds(ms); break;
                default: throw new FormatException($"The Redis connection string option '{key}={(key.Equals("password", StringComparison.OrdinalIgnoreCase) ? "***" : value)}' is unknown or invalid (known: password, db, connectTimeout, commandTimeout).");
            }
        }
        return new RedisEndpoint(host, port, unix, password, db, connect, command);
    }

    public override string ToString() => UnixSocketPath is null ? $"{Host}:{Port}/{Database}" : $"unix:{UnixSocketPath}/{Database}";

    private static string Redact(string s)
    {
        var i = s.IndexOf("password=", StringComparison.OrdinalIgnoreCase);
        return i < 0 ? s : s[..i] + "password=***";
    }
}
