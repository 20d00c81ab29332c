using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace RecSys.Ranking.Onnx;

/// <summary>
/// The protobuf wire format, just what ONNX's <c>ModelProto</c> needs: varints, length-delimited fields (strings,
/// bytes, nested messages, packed repeated scalars) and 32-bit floats. Nested messages are written by a callback into a
/// child writer and then prefixed with their length.
/// </summary>
internal sealed class ProtoWriter
{
    private const int Varint = 0;
    private const int Fixed32 = 5;
    private const int LengthDelimited = 2;

    private readonly ArrayBufferWriter<byte> _buffer = new(256);

    public ReadOnlySpan<byte> WrittenSpan => _buffer.WrittenSpan;

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();

    public ProtoWriter Int64(int field, long value)
    {
        Tag(field, Varint);
        WriteVarint((ulong)value);
        return this;
    }

    public ProtoWriter Float(int field, float value)
    {
        Tag(field, Fixed32);
        BinaryPrimitives.WriteSingleLittleEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
        return this;
    }

    public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ProtoWriter Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, LengthDelimited);
        WriteVarint((ulong)value.Length);
        value.CopyTo(_buffer.GetSpan(value.Length));
        _buffer.Advance(value.Length);
        return this;
    }

    public ProtoWriter Message(int field, Action<ProtoWriter> write)
    {
        var child = new ProtoWriter();
        write(child);
        return Bytes(field, child.WrittenSpan);
    }

    /// <summary>A packed repeated int64 field (proto3 default for repeated scalars).</summary>
    public ProtoWriter PackedInt64(int field, ReadOnlySpan<long> values)
    {
        var child = new ProtoWriter();
        foreach (var v in values) child.WriteVarint((ulong)v);
        return Bytes(field, child.WrittenSpan);
    }

    /// <summary>Floats as little-endian bytes (TensorProto.raw_data).</summary>
    public ProtoWriter RawFloats(int field, ReadOnlySpan<float> values)
    {
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        return Bytes(field, bytes);
    }

    private void Tag(int field, int wireType) => WriteVarint((ulong)((field << 3) | wireType));

    private void WriteVarint(ulong value)
    {
        var span = _buffer.GetSpan(10);
        var n = 0;
        while (value >= 0x80)
        {
            span[n++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[n++] = (byte)value;
        _buffer.Advance(n);
    }
}
