using RecSys.Features.Redis.Resp;

namespace RecSys.Features;

/// <summary>The Redis side of the online store for tools (the <c>load</c> verb).</summary>
public static class RedisOnlineStore
{
    /// <summary>Deletes every key under <paramref name="keyPrefix"/> (SCAN + UNLINK, never KEYS); returns how many went.</summary>
    public static async Task<long> ClearAsync(string connectionString, string keyPrefix, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(keyPrefix);
        await using var redis = new RedisClient(RedisEndpoint.Parse(connectionString));
        var cursor = "0";
        long deleted = 0;
        do
        {
            string[] keys;
            using (var scan = await redis.CommandAsync(cancellationToken, "SCAN", cursor, "MATCH", EscapeGlob(keyPrefix) + "*", "COUNT", "1000"))
            {
                var reply = scan[0];
                cursor = reply[0].AsString()!;
                var found = reply[1];
                keys = new string[found.Count];
                var i = 0;
                foreach (var key in found) keys[i++] = key.AsString()!;
            }
            if (keys.Length > 0)
            {
                using var unlink = await redis.CommandAsync(cancellationToken, ["UNLINK", .. keys]);
                deleted += unlink[0].AsInt64();
            }
        }
        while (cursor != "0");
        return deleted;
    }

    private static string EscapeGlob(string s) => s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("*", "\\*", StringComparison.Ordinal)
        .Replace("?", "\\?", StringComparison.Ordinal).Replace("[", "\\[", StringComparison.Ordinal);
}
