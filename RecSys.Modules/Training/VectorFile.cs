using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace RecSys.Training;

/// <summary>
/// Row-major float32 vectors on disk: the ASCII magic <c>RSV1</c>, int32 count, int32 dimensions (little-endian), then
/// count x dimensions little-endian floats. A file of the wrong size or with a non-finite value is refused with its
/// path, so a half-written or corrupt artifact never loads.
/// </summary>
public static class VectorFile
{
    private static readonly byte[] Magic = "RSV1"u8.ToArray();

    public static async Task WriteAsync(string path, float[] data, int count, int dimensions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length != count * dimensions) throw new ArgumentException($"{data.Length} floats for {count} x {dimensions}.", nameof(data));
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Vector files are written on little-endian machines.");
        var temporary = path + ".tmp";
        await using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
        {
            var header = new byte[12];
            Magic.CopyTo(header, 0);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(4), count);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(8), dimensions);
            await stream.WriteAsync(header, cancellationToken);
            await stream.WriteAsync(MemoryMarshal.AsBytes(data.AsSpan()).ToArray(), cancellationToken);
        }
        File.Move(temporary, path, overwrite: true);
    }

    public static (float[] Data, int Count, int Dimensions) Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 12 || !bytes.AsSpan(0, 4).SequenceEqual(Magic)) throw new InvalidDataException($"{path}: not a RecSys vector file (no RSV1 header).");
        var count = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4));
        var dimensions = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(8));
        if (count < 0 || dimensions < 1 || (long)count * dimensions * 4 != bytes.Length - 12)
        {
            throw new InvalidDataException($"{path}: header says {count} x {dimensions} floats, the file holds {bytes.Length - 12} bytes after it.");
        }
        var data = MemoryMarshal.Cast<byte, float>(bytes.AsSpan(12)).ToArray();
        for (var i = 0; i < data.Length; i++)
        {
            if (!float.IsFinite(data[i])) throw new InvalidDataException($"{path}: value {i} (vector {i / dimensions}) is not finite.");
        }
        return (data, count, dimensions);
    }
}
