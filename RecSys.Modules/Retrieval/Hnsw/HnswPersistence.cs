using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace RecSys.Retrieval.Hnsw;

/// <summary>
/// Versioned binary file of an <see cref="HnswIndex"/>:
/// <code>
/// header (64 bytes, little-endian): magic "RSHNSW\0\0", format version, metric, dimensions, count, M, M0, efConstruction,
///   seed, entry (id | level &lt;&lt; 32), upper-link ints, payload bytes
/// payload: node blocks (count x stride float32; stride = dims + M0 + 1 rounded up to 16: the vector, then the level-0
///   list as int32 bits: count, ids), levels (count bytes), flags (count int32), upper links (their int32s, node after
///   node, for nodes with levels above 0)
/// trailer: 64-bit checksum of header and payload
/// </code>
/// A file with another magic or version, a length other than the header promises, or a wrong checksum is refused with
/// an <see cref="InvalidDataException"/> that says which; nothing is returned from a refused file.
/// </summary>
internal static class HnswPersistence
{
    public const int FormatVersion = 1;
    private const int HeaderBytes = 64;
    private static ReadOnlySpan<byte> Magic => "RSHNSW\0\0"u8;

    public static void Save(HnswIndex index, string path)
    {
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            Save(index, stream);
        }
        File.Move(temporary, path, overwrite: true);
    }

    public static void Save(HnswIndex index, Stream stream)
    {
        var count = index.Count;
        var dims = index.Dimensions;
        var stride = index.NodeStride;
        long upperInts = 0;
        for (var i = 0; i < count; i++) upperInts += index.RawUpper[i]?.Length ?? 0;
        var payload = (4L * count * stride) + count + (4L * count) + (4L * upperInts);

        Span<byte> header = stackalloc byte[HeaderBytes];
        header.Clear();
        Magic.CopyTo(header);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(header[12..], (int)index.Metric);
        BinaryPrimitives.WriteInt32LittleEndian(header[16..], dims);
        BinaryPrimitives.WriteInt32LittleEndian(header[20..], count);
        BinaryPrimitives.WriteInt32LittleEndian(header[24..], index.Parameters.M);
        BinaryPrimitives.WriteInt32LittleEndian(header[28..], index.Parameters.MaxM0);
        BinaryPrimitives.WriteInt32LittleEndian(header[32..], index.Parameters.EfConstruction);
        BinaryPrimitives.WriteUInt64LittleEndian(header[36..], index.Parameters.Seed);
        BinaryPrimitives.WriteInt64LittleEndian(header[44..], index.RawEntry);
        BinaryPrimitives.WriteInt64LittleEndian(header[52..], upperInts);
        // bytes 60..63 hold the low bits of the payload length check; the full length is implied by the fields above.
        BinaryPrimitives.WriteInt32LittleEndian(header[60..], (int)(payload & 0x7FFFFFFF));

        var checksum = new Checksum();
        Write(stream, header, ref checksum);
        WriteLarge(stream, index.RawNodes[..(count * stride)], ref checksum);
        Write(stream, index.RawLevels.AsSpan(0, count), ref checksum);
        Write(stream, MemoryMarshal.AsBytes(index.RawFlags.AsSpan(0, count)), ref checksum);
        for (var i = 0; i < count; i++)
        {
            if (index.RawUpper[i] is { } links) Write(stream, MemoryMarshal.AsBytes(links.AsSpan()), ref checksum);
        }
        Span<byte> trailer = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(trailer, checksum.Value);
        stream.Write(trailer);
    }

    /// <summary>Loads an index; <paramref name="capacity"/> leaves room for later <see cref="HnswIndex.Add"/> calls.</summary>
    public static HnswIndex Load(string path, int? capacity = null)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        try
        {
            return Load(stream, capacity);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"HNSW index file '{path}' refused: {ex.Message}", ex);
        }
    }

    public static HnswIndex Load(Stream stream, int? capacity = null)
    {
        Span<byte> header = stackalloc byte[HeaderBytes];
        var checksum = new Checksum();
        Read(stream, header, ref checksum);
        if (!header[..8].SequenceEqual(Magic)) throw new InvalidDataException("not an HNSW index file (bad magic).");
        var version = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
        if (version != FormatVersion) throw new InvalidDataException($"format version {version} is not supported (expected {FormatVersion}).");
        var metric = (HnswMetric)BinaryPrimitives.ReadInt32LittleEndian(header[12..]);
        var dims = BinaryPrimitives.ReadInt32LittleEndian(header[16..]);
        var count = BinaryPrimitives.ReadInt32LittleEndian(header[20..]);
        var m = BinaryPrimitives.ReadInt32LittleEndian(header[24..]);
        var m0 = BinaryPrimitives.ReadInt32LittleEndian(header[28..]);
        var efConstruction = BinaryPrimitives.ReadInt32LittleEndian(header[32..]);
        var seed = BinaryPrimitives.ReadUInt64LittleEndian(header[36..]);
        var entry = BinaryPrimitives.ReadInt64LittleEndian(header[44..]);
        var upperInts = BinaryPrimitives.ReadInt64LittleEndian(header[52..]);
        var payloadLow = BinaryPrimitives.ReadInt32LittleEndian(header[60..]);
        if (!Enum.IsDefined(metric) || dims is < 1 or > 65536 || count < 0 || m is < 2 or > 128 || m0 != 2 * m || efConstruction < 1
            || upperInts < 0 || (count == 0 ? entry != -1 : (int)entry < 0 || (int)entry >= count))
        {
            throw new InvalidDataException("header fields are out of range (corrupt header).");
        }
        var stride = ((dims + m0 + 1 + 15) / 16) * 16;
        var payload = (4L * count * stride) + count + (4L * count) + (4L * upperInts);
        if ((int)(payload & 0x7FFFFFFF) != payloadLow) throw new InvalidDataException("header fields disagree with each other (corrupt header).");
        if (stream.CanSeek)
        {
            var expected = HeaderBytes + payload + 8;
            if (stream.Length != expected)
            {
                throw new InvalidDataException(stream.Length < expected
                    ? $"file is truncated: {stream.Length:N0} bytes, the header promises {expected:N0}."
                    : $"file is longer than its header promises ({stream.Length:N0} bytes, expected {expected:N0}).");
            }
        }

        var index = new HnswIndex(dims, metric, Math.Max(Math.Max(1, count), capacity ?? count), new HnswParameters(m, efConstruction, seed));
        if (index.NodeStride != stride) throw new InvalidOperationException("node stride mismatch");
        ReadLarge(stream, index.RawNodes[..(count * stride)], ref checksum);
        Read(stream, index.RawLevels.AsSpan(0, count), ref checksum);
        Read(stream, MemoryMarshal.AsBytes(index.RawFlags.AsSpan(0, count)), ref checksum);
        long upperSeen = 0;
        for (var i = 0; i < count; i++)
        {
            int level = index.RawLevels[i];
            if (level == 0) continue;
            var length = level * (m + 1);
            upperSeen += length;
            if (upperSeen > upperInts) throw new InvalidDataException("node levels disagree with the header (corrupt payload).");
            var links = new int[length];
            Read(stream, MemoryMarshal.AsBytes(links.AsSpan()), ref checksum);
            index.RawUpper[i] = links;
        }
        if (upperSeen != upperInts) throw new InvalidDataException("node levels disagree with the header (corrupt payload).");
        Span<byte> trailer = stackalloc byte[8];
        ReadExactly(stream, trailer);
        var stored = BinaryPrimitives.ReadUInt64LittleEndian(trailer);
        if (stored != checksum.Value) throw new InvalidDataException($"checksum mismatch (stored {stored:x16}, computed {checksum.Value:x16}): the file is corrupt.");
        index.RestoreState(count, entry);
        if (count > 0 && index.RawLevels[(int)entry] != (int)(entry >> 32)) throw new InvalidDataException("entry point level disagrees with its node (corrupt payload).");
        return index;
    }

    /// <summary>Writes a float section in chunks of at most 1 GiB, so a section may exceed the 2 GiB a byte span can hold.</summary>
    private static void WriteLarge(Stream stream, ReadOnlySpan<float> values, ref Checksum checksum)
    {
        for (var start = 0; start < values.Length; start += ChunkFloats)
        {
            Write(stream, MemoryMarshal.AsBytes(values.Slice(start, Math.Min(ChunkFloats, values.Length - start))), ref checksum);
        }
    }

    private static void ReadLarge(Stream stream, Span<float> values, ref Checksum checksum)
    {
        for (var start = 0; start < values.Length; start += ChunkFloats)
        {
            Read(stream, MemoryMarshal.AsBytes(values.Slice(start, Math.Min(ChunkFloats, values.Length - start))), ref checksum);
        }
    }

    private const int ChunkFloats = 1 << 28;

    private static void Write(Stream stream, ReadOnlySpan<byte> bytes, ref Checksum checksum)
    {
        checksum.Append(bytes);
        stream.Write(bytes);
    }

    private static void Read(Stream stream, Span<byte> bytes, ref Checksum checksum)
    {
        ReadExactly(stream, bytes);
        checksum.Append(bytes);
    }

    private static void ReadExactly(Stream stream, Span<byte> bytes)
    {
        try
        {
            stream.ReadExactly(bytes);
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException("file is truncated.", ex);
        }
    }

    /// <summary>
    /// A streaming 64-bit checksum: each section is folded eight bytes at a time with a multiply-rotate mix (fast on
    /// hundreds of megabytes), tail bytes one at a time; sections are chained through the running value.
    /// </summary>
    private struct Checksum()
    {
        private const ulong Prime1 = 0x9E3779B185EBCA87UL;
        private const ulong Prime2 = 0xC2B2AE3D27D4EB4FUL;
        public ulong Value { get; private set; } = 0x27D4EB2F165667C5UL;

        public void Append(ReadOnlySpan<byte> bytes)
        {
            var h = Value ^ ((ulong)bytes.Length * Prime2);
            var words = MemoryMarshal.Cast<byte, ulong>(bytes);
            foreach (var w in words) h = ulong.RotateLeft(h ^ (w * Prime2), 31) * Prime1;
            for (var i = words.Length * 8; i < bytes.Length; i++) h = ulong.RotateLeft(h ^ (bytes[i] * Prime1), 11) * Prime2;
            h ^= h >> 33;
            Value = h;
        }
    }
}
