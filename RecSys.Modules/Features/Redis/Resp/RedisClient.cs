using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace RecSys.Features.Redis.Resp;

/// <summary>
/// A RESP2 client over one multiplexed connection. Batches from any number of callers are written in order under a
/// write lock and their replies matched FIFO by a single reader loop. A reply overdue by the command timeout resets the
/// connection (failing everything in flight with <see cref="RedisTimeoutException"/>), so a hung server costs each
/// caller at most the timeout. A broken connection is reopened on the next call, with exponential back-off between
/// failed attempts during which calls fail at once instead of waiting for the connect timeout.
/// </summary>
internal sealed partial class RedisClient : IAsyncDisposable
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(2);

    private readonly RedisEndpoint _endpoint;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private readonly Timer _timeoutCheck;
    private volatile Connection? _current;
    private long _nextAttempt;
    private TimeSpan _backoff = FirstBackoff;
    private Exception? _lastFailure;
    private bool _disposed;

    public RedisClient(RedisEndpoint endpoint, ILogger? logger = null)
    {
        _endpoint = endpoint;
        _logger = logger ?? NullLogger.Instance;
        var period = TimeSpan.FromMilliseconds(Math.Clamp(endpoint.CommandTimeout.TotalMilliseconds / 5, 5, 200));
        _timeoutCheck = new Timer(static s => ((RedisClient)s!).CheckTimeouts(), this, period, period);
    }

    public RedisEndpoint Endpoint => _endpoint;

    private long _batchesSent;

    /// <summary>How many batches (round trips) this client has sent.</summary>
    public long BatchesSent => Interlocked.Read(ref _batchesSent);

    /// <summary>True while a connection is open (it may still break on the next command).</summary>
    public bool IsConnected => _current is { IsDead: false };

    /// <summary>Sends the batch and waits for all its replies. The caller disposes the replies.</summary>
    public async Task<RespReplies> ExecuteAsync(RespBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.EnsureComplete();
        ObjectDisposedException.ThrowIf(_disposed, this);
        var connection = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
        var replies = new RespReplies(batch.Count);
        Interlocked.Increment(ref _batchesSent);
        await connection.SendAsync(replies, batch.Written).ConfigureAwait(false);
        return await replies.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<Connection> GetConnectionAsync(CancellationToken cancellationToken)
    {
        var current = _current;
        if (current is { IsDead: false }) return current;
        await _connectLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            current = _current;
            if (current is { IsDead: false }) return current;
            var now = Stopwatch.GetTimestamp();
            if (now < _nextAttempt)
            {
                throw new RedisConnectionException(
                    $"Redis at {_endpoint} is unreachable ({_lastFailure?.Message}); next connection attempt in {Stopwatch.GetElapsedTime(now, _nextAttempt).TotalMilliseconds:0} ms.", _lastFailure);
            }
            try
            {
                var opened = await Connection.OpenAsync(this, cancellationToken).ConfigureAwait(false);
                if (current is not null || _lastFailure is not null) LogReconnected(_logger, _endpoint.ToString());
                _current = opened;
                _backoff = FirstBackoff;
                _lastFailure = null;
                return opened;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                _lastFailure = ex;
                _nextAttempt = Stopwatch.GetTimestamp() + (long)(_backoff.TotalSeconds * Stopwatch.Frequency);
                LogConnectFailed(_logger, _endpoint.ToString(), ex.Message, _backoff.TotalMilliseconds);
                _backoff = TimeSpan.FromTicks(Math.Min(_backoff.Ticks * 2, MaxBackoff.Ticks));
                throw ex as RedisException ?? new RedisConnectionException($"Cannot connect to Redis at {_endpoint}: {ex.Message}", ex);
            }
        }
        finally
        {
            _connectLock.Release();
        }
    }

    private void CheckTimeouts()
    {
        var connection = _current;
        if (connection is null || connection.IsDead) return;
        var oldest = connection.OldestSentAt();
        if (oldest == 0) return;
        var waited = Stopwatch.GetElapsedTime(oldest);
        if (waited > _endpoint.CommandTimeout)
        {
            LogTimedOut(_logger, _endpoint.ToString(), _endpoint.CommandTimeout.TotalMilliseconds);
            connection.Fail(new RedisTimeoutException(
                $"Redis at {_endpoint} did not reply within the command timeout of {_endpoint.CommandTimeout.TotalMilliseconds:0} ms; the connection was reset."));
        }
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        await _timeoutCheck.DisposeAsync().ConfigureAwait(false);
        _current?.Fail(new ObjectDisposedException(nameof(RedisClient)));
        _connectLock.Dispose();
    }

    /// <summary>One socket, its queue of batches waiting for replies, and its reader loop.</summary>
    private sealed class Connection
    {
        private readonly RedisClient _owner;
        private readonly Socket _socket;
        private readonly Queue<RespReplies> _pending = new();
        private readonly SemaphoreSlim _writeLock = new(1, 1);
        private volatile bool _dead;

        private Connection(RedisClient owner, Socket socket)
        {
            _owner = owner;
            _socket = socket;
        }

        public bool IsDead => _dead;

        public static async Task<Connection> OpenAsync(RedisClient owner, CancellationToken cancellationToken)
        {
            var endpoint = owner._endpoint;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(endpoint.ConnectTimeout);
            Socket socket;
            EndPoint remote;
            if (endpoint.UnixSocketPath is not null)
            {
                socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                remote = new UnixDomainSocketEndPoint(endpoint.UnixSocketPath);
            }
            else
            {
                var address = IPAddress.TryParse(endpoint.Host, out var ip) ? ip : (await Dns.GetHostAddressesAsync(endpoint.Host, timeout.Token).ConfigureAwait(false))[0];
                socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                remote = new IPEndPoint(address, endpoint.Port);
            }
            try
            {
                await socket.ConnectAsync(remote, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                socket.Dispose();
                throw new RedisConnectionException($"Connecting to Redis at {endpoint} timed out after {endpoint.ConnectTimeout.TotalMilliseconds:0} ms.");
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            var connection = new Connection(owner, socket);
            _ = Task.Run(connection.ReadLoopAsync, CancellationToken.None);
            if (endpoint.Password is not null || endpoint.Database != 0)
            {
                using var hello = new RespBatch();
                if (endpoint.Password is not null) hello.Command("AUTH"u8, 2).Arg(endpoint.Password);
                if (endpoint.Database != 0) hello.Command("SELECT"u8, 2).Arg(endpoint.Database);
                var replies = new RespReplies(hello.Count);
                await connection.SendAsync(replies, hello.Written).ConfigureAwait(false);
                try
                {
                    using var answered = await replies.Task.WaitAsync(timeout.Token).ConfigureAwait(false);
                    for (var i = 0; i < answered.Count; i++) answered[i].ThrowIfError();
                }
                catch (Exception ex)
                {
                    connection.Fail(ex);
                    if (ex is RedisServerException) throw new RedisConnectionException($"Redis at {endpoint} refused the connection set-up (AUTH/SELECT): {ex.Message}", ex);
                    throw;
                }
            }
            return connection;
        }

        public async ValueTask SendAsync(RespReplies replies, ReadOnlyMemory<byte> bytes)
        {
            await _writeLock.WaitAsync().ConfigureAwait(false);
            try
            {
                lock (_pending)
                {
                    if (_dead) throw new RedisConnectionException($"The connection to Redis at {_owner._endpoint} is closed.");
                    replies.SentAt = Stopwatch.GetTimestamp();
                    _pending.Enqueue(replies);
                }
                while (!bytes.IsEmpty)
                {
                    var sent = await _socket.SendAsync(bytes, SocketFlags.None).ConfigureAwait(false);
                    bytes = bytes[sent..];
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                Fail(new RedisConnectionException($"Writing to Redis at {_owner._endpoint} failed: {ex.Message}", ex));
                throw new RedisConnectionException($"Writing to Redis at {_owner._endpoint} failed: {ex.Message}", ex);
            }
            finally
            {
                _writeLock.Release();
            }
        }

        public long OldestSentAt()
        {
            lock (_pending)
            {
                return _pending.TryPeek(out var head) ? head.SentAt : 0;
            }
        }

        public void Fail(Exception reason)
        {
            RespReplies[] orphans;
            lock (_pending)
            {
                if (_dead) return;
                _dead = true;
                orphans = _pending.ToArray();
                _pending.Clear();
            }
            _socket.Dispose();
            var error = reason as RedisException ?? new RedisConnectionException($"The connection to Redis at {_owner._endpoint} broke: {reason.Message}", reason);
            foreach (var orphan in orphans) orphan.Fail(error);
            if (reason is not ObjectDisposedException) LogConnectionLost(_owner._logger, _owner._endpoint.ToString(), orphans.Length, reason.Message);
        }

        private async Task ReadLoopAsync()
        {
            var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
            int start = 0, end = 0;
            try
            {
                while (true)
                {
                    if (end == buffer.Length)
                    {
                        if (start > 0)
                        {
                            buffer.AsSpan(start, end - start).CopyTo(buffer);
                            end -= start;
                            start = 0;
                        }
                        else
                        {
                            var grown = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                            buffer.AsSpan(0, end).CopyTo(grown);
                            ArrayPool<byte>.Shared.Return(buffer);
                            buffer = grown;
                        }
                    }
                    var read = await _socket.ReceiveAsync(buffer.AsMemory(end), SocketFlags.None).ConfigureAwait(false);
                    if (read == 0) throw new RedisConnectionException($"Redis at {_owner._endpoint} closed the connection.");
                    end += read;
                    while (start < end)
                    {
                        RespReplies? head;
                        lock (_pending) _pending.TryPeek(out head);
                        if (head is null) throw new RedisConnectionException($"Protocol error: Redis at {_owner._endpoint} sent a reply nobody asked for; the connection is reset.");
                        if (!head.TryParseOne(buffer.AsSpan(start, end - start), out var consumed)) break;
                        start += consumed;
                        if (head.IsComplete)
                        {
                            lock (_pending)
                            {
                                if (_dead) return;
                                _pending.Dequeue();
                            }
                            head.Complete();
                        }
                    }
                    if (start == end) start = end = 0;
                }
            }
            catch (Exception ex)
            {
                Fail(ex);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis at {Endpoint}: cannot connect ({Error}); next attempt in {BackoffMs} ms")]
    private static partial void LogConnectFailed(ILogger logger, string endpoint, string error, double backoffMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Redis at {Endpoint}: reconnected")]
    private static partial void LogReconnected(ILogger logger, string endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis at {Endpoint}: connection lost with {InFlight} batch(es) in flight: {Error}")]
    private static partial void LogConnectionLost(ILogger logger, string endpoint, int inFlight, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis at {Endpoint}: no reply within {TimeoutMs} ms; resetting the connection")]
    private static partial void LogTimedOut(ILogger logger, string endpoint, double timeoutMs);
}
