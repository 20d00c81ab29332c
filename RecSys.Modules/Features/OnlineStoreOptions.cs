using System.ComponentModel.DataAnnotations;

namespace RecSys.Features;

/// <summary>
/// The online store's keys of the <c>Stores</c> section. The Redis address is <c>ConnectionStrings:Redis</c>
/// (<c>host:port[,password=...][,db=N][,connectTimeout=ms][,commandTimeout=ms]</c>).
/// </summary>
public sealed class OnlineStoreOptions
{
    public const string SectionName = "Stores";

    /// <summary><c>memory</c> (embedded, the default) or <c>redis</c>.</summary>
    [Required, RegularExpression("^(memory|redis)$", ErrorMessage = "Stores:Online must be 'memory' or 'redis'.")]
    public string Online { get; set; } = "memory";

    /// <summary>Prefix of every Redis key the store writes, so several deployments can share one Redis.</summary>
    [Required, RegularExpression("^[A-Za-z0-9:_.-]{0,32}$", ErrorMessage = "Stores:RedisKeyPrefix must be up to 32 letters, digits or ':_.-'.")]
    public string RedisKeyPrefix { get; set; } = "rs:";

    /// <summary>
    /// Longest a request waits for one Redis read (user state, candidate counters, trending) before it goes on with
    /// defaults and <c>degraded: ["online-store"]</c>; well under <c>Pipeline:DeadlineMilliseconds</c> so a slow Redis
    /// leaves the other stages their time. The connection itself is reset only after the connection string's
    /// <c>commandTimeout</c>.
    /// </summary>
    [Range(1, 60_000)]
    public int RedisReadTimeoutMilliseconds { get; set; } = 80;

    public bool UsesRedis => string.Equals(Online, "redis", StringComparison.Ordinal);
}
