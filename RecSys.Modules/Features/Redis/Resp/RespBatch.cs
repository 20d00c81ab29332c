using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace RecSys.Features.Redis.Resp;

/// <summary>
/// Commands encoded as RESP2 arrays of bulk strings into one pooled buffer, sent in one write and answered in order.
/// Each command declares its argument count first; the batch refuses to be sent with a command left incomplete,
/// because a short command would shift every later reply.
/// </summary>
internal sealed class RespBatch : IDisposable
{
    private byte[] _buffer;
    private int _length;
    private int _argsMissing;

    public RespBatch(int initialBytes = 1024) => _buffer = ArrayPool<byte>.Shared.Rent(initialBytes);

    /// <summary>How many commands the batch holds (and how many replies it will get).</summary>
    public int Count { get; private set; }

    public int Length => _length;

    internal ReadOnlyMemory<byte> Written => _buffer.AsMemory(0, _length);

    /// <summary>Starts a command of <paramref name="argumentCount"/> parts, the command name included.</summary>
    public RespBatch Command(int argumentCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(argumentCount, 1);
        if (_argsMissing != 0) throw new InvalidOperationException($"The previous command is missing {_argsMissing} argument(s).");
        Count++;
        _argsMissing = argumentCount;
        WriteHeader((byte)'*', argumentCount);
        return this;
    }

    /// <summary>Starts a command and writes its name, e.g. <c>Command("HMGET"u8, 4)</c>.</summary>
    public RespBatch Command(ReadOnlySpan<byte> name, int argumentCount) => Command(argumentCount).Arg(name);

    public RespBatch Arg(ReadOnlySpan<byte> value)
    {
        TakeArg();
        WriteHeader((byte)'$', value.Length);
        var span = Reserve(value.Length + 2);
        value.CopyTo(span);
        span[value.Length] = (byte)'\r';
        span[value.Length + 1] = (byte)'\n';
        _length += value.Length + 2;
        return this;
    }

    public RespBatch Arg(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        TakeArg();
        var count = Encoding.UTF8.GetByteCount(value);
        WriteHeader((byte)'$', count);
        var span = Reserve(count + 2);
        Encoding.UTF8.GetBytes(value, span);
        span[count] = (byte)'\r';
        span[count + 1] = (byte)'\n';
        _length += count + 2;
        return this;
    }

    public RespBatch Arg(long value)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, digits, out var n);
        return Arg(digits[..n]);
    }

    public RespBatch Arg(double value)
    {
        Span<byte> text = stackalloc byte[32];
        if (double.IsPositiveInfinity(value)) return Arg("+inf"u8);
        if (double.IsNegativeInfinity(value)) return Arg("-inf"u8);
        value.TryFormat(text, out var n, "R", CultureInfo.InvariantCulture);
        return Arg(text[..n]);
    }

    /// <summary>A key made of a prefix and a number, written without building a string: <c>Arg("rs:i:"u8, 42)</c> is <c>rs:i:42</c>.</summary>
    public RespBatch Arg(ReadOnlySpan<byte> prefix, long value, ReadOnlySpan<byte> suffix = default)
    {
        Span<byte> key = stackalloc byte[prefix.Length + 20 + suffix.Length];
        prefix.CopyTo(key);
        Utf8Formatter.TryFormat(value, key[prefix.Length..], out var n);
        suffix.CopyTo(key[(prefix.Length + n)..]);
        return Arg(key[..(prefix.Length + n + suffix.Length)]);
    }

    /// <summary>Empties the batch for reuse.</summary>
    public void Clear()
    {
        _length = 0;
        _argsMissing = 0;
        Count = 0;
    }

    internal void EnsureComplete()
    {
        if (_argsMissing != 0) throw new InvalidOperationException($"The last command is missing {_argsMissing} argument(s).");
        if (Count == 0) throw new InvalidOperationException("The batch holds no command.");
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
    }

    private void TakeArg()
    {
        if (_argsMissing == 0) throw new InvalidOperationException("More arguments than the command declared.");
        _argsMissing--;
    }

    private void WriteHeader(byte type, int value)
    {
        var span = Reserve(1 + 11 + 2);
        span[0] = type;
        Utf8Formatter.TryFormat(value, span[1..], out var n);
        span[1 + n] = (byte)'\r';
        span[2 + n] = (byte)'\n';
        _length += n + 3;
    }

    private Span<byte> Reserve(int bytes)
    {
        if (_length + bytes > _buffer.Length)
        {
            var grown = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + bytes));
            _buffer.AsSpan(0, _length).CopyTo(grown);
            if (_buffer.Length > 0) ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = grown;
        }
        return _buffer.AsSpan(_length, bytes);
    }
}
