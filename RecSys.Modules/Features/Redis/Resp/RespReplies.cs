using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace RecSys.Features.Redis.Resp;

internal enum RespType : byte
{
    SimpleString,
    Error,
    Integer,
    BulkString,
    Array,
    Null,
}

/// <summary>
/// The replies of one batch, parsed into two pooled buffers: a flat pre-order list of entries (arrays record where
/// their subtree ends) and one byte buffer holding every string. Reading a reply allocates nothing; disposing returns
/// the buffers. Replies arrive in the order the batch's commands were written.
/// </summary>
internal sealed class RespReplies : IDisposable
{
    internal struct Entry
    {
        public RespType Type;
        public int Offset;
        public int Length;
        public int Next;
        public long Integer;
    }

    private readonly TaskCompletionSource<RespReplies> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Entry[] _entries;
    private byte[] _data;
    private int[] _roots;
    private int _entryCount;
    private int _dataLength;
    private int _rootCount;

    public RespReplies(int expected)
    {
        Expected = expected;
        _roots = ArrayPool<int>.Shared.Rent(expected);
        _entries = ArrayPool<Entry>.Shared.Rent(Math.Max(4, expected * 2));
        _data = ArrayPool<byte>.Shared.Rent(Math.Max(256, expected * 16));
    }

    /// <summary>How many replies the batch waits for.</summary>
    public int Expected { get; }

    public int Count => _rootCount;

    /// <summary>When the batch was written (Stopwatch ticks), for the timeout check.</summary>
    internal long SentAt { get; set; }

    internal bool IsComplete => _rootCount == Expected;

    internal Task<RespReplies> Task => _completion.Task;

    public RespValue this[int index]
    {
        get
        {
            if ((uint)index >= (uint)_rootCount) throw new ArgumentOutOfRangeException(nameof(index));
            return new RespValue(this, _roots[index]);
        }
    }

    internal ref readonly Entry EntryAt(int index) => ref _entries[index];

    internal ReadOnlySpan<byte> DataAt(int offset, int length) => _data.AsSpan(offset, length);

    internal void Complete() => _completion.TrySetResult(this);

    internal void Fail(Exception exception) => _completion.TrySetException(exception);

    /// <summary>Parses one complete reply from the start of <paramref name="input"/>; false (and nothing kept) when it is not all there yet.</summary>
    internal bool TryParseOne(ReadOnlySpan<byte> input, out int consumed)
    {
        var entries = _entryCount;
        var data = _dataLength;
        var end = Parse(input, 0);
        if (end < 0)
        {
            _entryCount = entries;
            _dataLength = data;
            consumed = 0;
            return false;
        }
        if (_rootCount == _roots.Length) Grow(ref _roots, _rootCount + 1);
        _roots[_rootCount++] = entries;
        consumed = end;
        return true;
    }

    /// <summary>Returns the position after the value that starts at <paramref name="position"/>, or -1 when incomplete.</summary>
    private int Parse(ReadOnlySpan<byte> input, int position)
    {
        if (position >= input.Length) return -1;
        var lineEnd = input[position..].IndexOf("\r\n"u8);
        if (lineEnd < 0) return -1;
        var line = input.Slice(position + 1, lineEnd - 1);
        var after = position + lineEnd + 2;
        var type = input[position];
        switch (type)
        {
            case (byte)'+':
            case (byte)'-':
                AddString(type == '+' ? RespType.SimpleString : RespType.Error, line);
                return after;
            case (byte)':':
                AddEntry(RespType.Integer, 0, 0, ParseInteger(line));
                return after;
            case (byte)'$':
            {
                var length = ParseInteger(line);
                if (length < 0)
                {
                    AddEntry(RespType.Null, 0, -1, 0);
                    return after;
                }
                if (after + length + 2 > input.Length) return -1;
                AddString(RespType.BulkString, input.Slice(after, (int)length));
                return after + (int)length + 2;
            }
            case (byte)'*':
            {
                var count = ParseInteger(line);
                if (count < 0)
                {
                    AddEntry(RespType.Null, 0, -1, 0);
                    return after;
                }
                var index = AddEntry(RespType.Array, 0, (int)count, 0);
                for (var i = 0; i < count; i++)
                {
                    after = Parse(input, after);
                    if (after < 0) return -1;
                }
                _entries[index].Next = _entryCount;
                return after;
            }
            default:
                throw new RedisConnectionException($"Protocol error: unexpected reply type byte 0x{type:x2}; the connection is reset.");
        }
    }

    private static long ParseInteger(ReadOnlySpan<byte> text)
    {
        if (!Utf8Parser.TryParse(text, out long value, out var used) || used != text.Length)
        {
            throw new RedisConnectionException($"Protocol error: '{Encoding.ASCII.GetString(text)}' is not an integer; the connection is reset.");
        }
        return value;
    }

    private void AddString(RespType type, ReadOnlySpan<byte> value)
    {
        if (_dataLength + value.Length > _data.Length) Grow(ref _data, _dataLength + value.Length);
        value.CopyTo(_data.AsSpan(_dataLength));
        AddEntry(type, _dataLength, value.Length, 0);
        _dataLength += value.Length;
    }

    private int AddEntry(RespType type, int offset, int length, long integer)
    {
        if (_entryCount == _entries.Length) Grow(ref _entries, _entryCount + 1);
        var index = _entryCount++;
        _entries[index] = new Entry { Type = type, Offset = offset, Length = length, Integer = integer, Next = index + 1 };
        return index;
    }

    private static void Grow<T>(ref T[] array, int needed)
    {
        var grown = ArrayPool<T>.Shared.Rent(Math.Max(needed, array.Length * 2));
        array.AsSpan().CopyTo(grown);
        ArrayPool<T>.Shared.Return(array);
        array = grown;
    }

    public void Dispose()
    {
        // Only the owner disposes, after reading; a reply abandoned by a cancelled caller is left to the collector.
        if (_entries.Length == 0) return;
        ArrayPool<Entry>.Shared.Return(_entries);
        ArrayPool<byte>.Shared.Return(_data);
        ArrayPool<int>.Shared.Return(_roots);
        _entries = [];
        _data = [];
        _roots = [];
    }
}

/// <summary>One reply (or one element of an array reply). Reading an error reply's value throws <see cref="RedisServerException"/>.</summary>
internal readonly struct RespValue(RespReplies owner, int index)
{
    private ref readonly RespReplies.Entry E => ref owner.EntryAt(index);

    public RespType Type => E.Type;

    public bool IsNull => E.Type == RespType.Null;

    public bool IsError => E.Type == RespType.Error;

    /// <summary>The error message of an error reply.</summary>
    public string ErrorMessage => IsError ? Encoding.UTF8.GetString(owner.DataAt(E.Offset, E.Length)) : "";

    /// <summary>The bytes of a bulk or simple string (empty for null).</summary>
    public ReadOnlySpan<byte> Span
    {
        get
        {
            ThrowIfError();
            return E.Type is RespType.BulkString or RespType.SimpleString ? owner.DataAt(E.Offset, E.Length) : default;
        }
    }

    public string? AsString()
    {
        ThrowIfError();
        return E.Type switch
        {
            RespType.Null => null,
            RespType.Integer => E.Integer.ToString(CultureInfo.InvariantCulture),
            RespType.BulkString or RespType.SimpleString => Encoding.UTF8.GetString(owner.DataAt(E.Offset, E.Length)),
            _ => throw new InvalidOperationException($"A {E.Type} reply is not a string."),
        };
    }

    /// <summary>An integer reply, or a bulk string holding an integer; null reads as 0.</summary>
    public long AsInt64()
    {
        ThrowIfError();
        switch (E.Type)
        {
            case RespType.Integer: return E.Integer;
            case RespType.Null: return 0;
            case RespType.BulkString or RespType.SimpleString:
                var text = owner.DataAt(E.Offset, E.Length);
                if (Utf8Parser.TryParse(text, out long value, out var used) && used == text.Length) return value;
                throw new FormatException($"Redis value '{Encoding.UTF8.GetString(text)}' is not an integer.");
            default: throw new InvalidOperationException($"A {E.Type} reply is not an integer.");
        }
    }

    /// <summary>A bulk string holding a float (as ZSCORE and ZINCRBY answer); null reads as 0.</summary>
    public double AsDouble()
    {
        ThrowIfError();
        switch (E.Type)
        {
            case RespType.Integer: return E.Integer;
            case RespType.Null: return 0;
            case RespType.BulkString or RespType.SimpleString:
                var text = owner.DataAt(E.Offset, E.Length);
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)) return value;
                if (text.SequenceEqual("inf"u8) || text.SequenceEqual("+inf"u8)) return double.PositiveInfinity;
                if (text.SequenceEqual("-inf"u8)) return double.NegativeInfinity;
                throw new FormatException($"Redis value '{Encoding.UTF8.GetString(text)}' is not a number.");
            default: throw new InvalidOperationException($"A {E.Type} reply is not a number.");
        }
    }

    /// <summary>Number of elements of an array reply (0 for null).</summary>
    public int Count
    {
        get
        {
            ThrowIfError();
            return E.Type switch
            {
                RespType.Array => E.Length,
                RespType.Null => 0,
                _ => throw new InvalidOperationException($"A {E.Type} reply is not an array."),
            };
        }
    }

    /// <summary>The elements of an array reply, in order.</summary>
    public Enumerator GetEnumerator() => new(owner, index + 1, Count);

    /// <summary>The element at <paramref name="position"/> (walks the earlier elements).</summary>
    public RespValue this[int position]
    {
        get
        {
            if ((uint)position >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(position));
            var at = index + 1;
            for (var i = 0; i < position; i++) at = owner.EntryAt(at).Next;
            return new RespValue(owner, at);
        }
    }

    public void ThrowIfError()
    {
        if (E.Type == RespType.Error) throw new RedisServerException($"Redis answered an error: {ErrorMessage}");
    }

    public override string ToString() => E.Type switch
    {
        RespType.Error => "-" + ErrorMessage,
        RespType.Array => $"array[{E.Length}]",
        _ => AsString() ?? "(nil)",
    };

    public struct Enumerator(RespReplies owner, int first, int count)
    {
        private int _next = first;
        private int _left = count;
        private int _current = -1;

        public readonly RespValue Current => new(owner, _current);

        public bool MoveNext()
        {
            if (_left == 0) return false;
            _left--;
            _current = _next;
            _next = owner.EntryAt(_current).Next;
            return true;
        }
    }
}
