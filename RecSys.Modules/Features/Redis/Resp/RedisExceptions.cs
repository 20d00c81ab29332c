namespace RecSys.Features.Redis.Resp;

/// <summary>Anything that went wrong talking to Redis.</summary>
internal class RedisException : Exception
{
    public RedisException() { }
    public RedisException(string message) : base(message) { }
    public RedisException(string message, Exception? inner) : base(message, inner) { }
}

/// <summary>The server answered a command with an error reply (<c>-ERR ...</c>, <c>-WRONGTYPE ...</c>).</summary>
internal sealed class RedisServerException : RedisException
{
    public RedisServerException() { }
    public RedisServerException(string message) : base(message) { }
    public RedisServerException(string message, Exception? inner) : base(message, inner) { }
}

/// <summary>The connection could not be opened, or it broke while commands were waiting for replies.</summary>
internal sealed class RedisConnectionException : RedisException
{
    public RedisConnectionException() { }
    public RedisConnectionException(string message) : base(message) { }
    public RedisConnectionException(string message, Exception? inner) : base(message, inner) { }
}

/// <summary>A reply did not arrive within the command timeout; the connection was reset so later commands start clean.</summary>
internal sealed class RedisTimeoutException : RedisException
{
    public RedisTimeoutException() { }
    public RedisTimeoutException(string message) : base(message) { }
    public RedisTimeoutException(string message, Exception? inner) : base(message, inner) { }
}
