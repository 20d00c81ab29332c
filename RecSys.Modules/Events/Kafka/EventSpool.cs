using System.Buffers.Binary;
using System.Text;

namespace RecSys.Events.Kafka;

/// <summary>One message waiting for Kafka: its topic, key and value.</summary>
internal sealed record SpoolRecord(string Topic, string Key, byte[] Value);

/// <summary>
/// An append-only file of messages accepted while Kafka was unreachable, replayed in order when it returns.
/// Record: <c>[int32 length][int16 topic length][topic][int16 key length][key][value]</c>, little-endian. Appends are
/// flushed to disk before they return. The replay position lives in <c>events.spool.pos</c>; when the replay reaches
/// the end the file is truncated. A torn last record (a crash mid-append) is cut off at open: it was never acknowledged.
/// </summary>
internal sealed class EventSpool : IDisposable
{
    private const int MaxRecordBytes = 16 * 1024 * 1024;

    private readonly Lock _lock = new();
    private readonly FileStream _file;
    private readonly FileStream _position;
    private long _readOffset;
    private long _backlog;

    public EventSpool(string directory)
    {
        Directory.CreateDirectory(directory);
        Path = System.IO.Path.Combine(directory, "events.spool");
        _file = new FileStream(Path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        _position = new FileStream(Path + ".pos", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        Span<byte> pos = stackalloc byte[8];
        _readOffset = _position.Length >= 8 && _position.Read(pos) == 8 ? BinaryPrimitives.ReadInt64LittleEndian(pos) : 0;
        if (_readOffset < 0 || _readOffset > _file.Length) throw new InvalidDataException($"The spool position {_readOffset} lies outside '{Path}' ({_file.Length} bytes).");
        var (end, count) = Scan(_readOffset);
        if (end < _file.Length) _file.SetLength(end);
        _backlog = count;
    }

    public string Path { get; }

    /// <summary>Messages appended and not yet replayed.</summary>
    public long Backlog => Interlocked.Read(ref _backlog);

    public void Append(IReadOnlyList<SpoolRecord> records)
    {
        using var buffer = new MemoryStream();
        Span<byte> header = stackalloc byte[4];
        foreach (var r in records)
        {
            var topic = Encoding.UTF8.GetBytes(r.Topic);
            var key = Encoding.UTF8.GetBytes(r.Key);
            var length = 2 + topic.Length + 2 + key.Length + r.Value.Length;
            BinaryPrimitives.WriteInt32LittleEndian(header, length);
            buffer.Write(header);
            BinaryPrimitives.WriteInt16LittleEndian(header, (short)topic.Length);
            buffer.Write(header[..2]);
            buffer.Write(topic);
            BinaryPrimitives.WriteInt16LittleEndian(header, (short)key.Length);
            buffer.Write(header[..2]);
            buffer.Write(key);
            buffer.Write(r.Value);
        }
        lock (_lock)
        {
            _file.Seek(0, SeekOrigin.End);
            buffer.Position = 0;
            buffer.CopyTo(_file);
            _file.Flush(flushToDisk: true);
            Interlocked.Add(ref _backlog, records.Count);
        }
    }

    /// <summary>Reads up to <paramref name="max"/> records from the replay position, and the offset just past them.</summary>
    public (List<SpoolRecord> Records, long End) Peek(int max)
    {
        lock (_lock)
        {
            var records = new List<SpoolRecord>();
            var offset = _readOffset;
            _file.Seek(offset, SeekOrigin.Begin);
            Span<byte> header = stackalloc byte[4];
            while (records.Count < max && offset + 4 <= _file.Length)
            {
                _file.ReadExactly(header);
                var length = BinaryPrimitives.ReadInt32LittleEndian(header);
                var body = new byte[length];
                _file.ReadExactly(body);
                var topicLength = BinaryPrimitives.ReadInt16LittleEndian(body);
                var topic = Encoding.UTF8.GetString(body, 2, topicLength);
                var keyLength = BinaryPrimitives.ReadInt16LittleEndian(body.AsSpan(2 + topicLength));
                var key = Encoding.UTF8.GetString(body, 4 + topicLength, keyLength);
                var valueStart = 4 + topicLength + keyLength;
                records.Add(new SpoolRecord(topic, key, body[valueStart..]));
                offset += 4 + length;
            }
            return (records, offset);
        }
    }

    /// <summary>Marks everything before <paramref name="end"/> delivered; truncates the file when nothing is left.</summary>
    public void Advance(long end, int count)
    {
        lock (_lock)
        {
            _readOffset = end;
            Interlocked.Add(ref _backlog, -count);
            if (_readOffset == _file.Length)
            {
                _file.SetLength(0);
                _file.Flush(flushToDisk: true);
                _readOffset = 0;
            }
            Span<byte> pos = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(pos, _readOffset);
            _position.Seek(0, SeekOrigin.Begin);
            _position.Write(pos);
            _position.Flush(flushToDisk: true);
        }
    }

    /// <summary>Walks whole records from <paramref name="offset"/>: the end of the last whole one and how many there are.</summary>
    private (long End, long Count) Scan(long offset)
    {
        var count = 0L;
        Span<byte> header = stackalloc byte[4];
        _file.Seek(offset, SeekOrigin.Begin);
        while (offset + 4 <= _file.Length)
        {
            _file.ReadExactly(header);
            var length = BinaryPrimitives.ReadInt32LittleEndian(header);
            if (length <= 4 || length > MaxRecordBytes || offset + 4 + length > _file.Length) break;
            _file.Seek(length, SeekOrigin.Current);
            offset += 4 + length;
            count++;
        }
        return (offset, count);
    }

    public void Dispose()
    {
        _file.Dispose();
        _position.Dispose();
    }
}
