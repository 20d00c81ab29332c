using System.Runtime.InteropServices;

namespace RecSys.Benchmarks.Retrieval;

/// <summary>TEXMEX .fvecs / .ivecs files: every row is an int32 dimension count followed by that many float32 / int32 values.</summary>
internal static class VecsFiles
{
    public static float[] ReadFvecs(string path, out int dims, out int count)
    {
        var ints = ReadIvecs(path, out dims, out count);
        return MemoryMarshal.Cast<int, float>(ints).ToArray();
    }

    public static int[] ReadIvecs(string path, out int dims, out int count)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 4) throw new InvalidDataException($"{path}: empty vecs file.");
        dims = BitConverter.ToInt32(bytes, 0);
        if (dims < 1 || bytes.Length % (4 * (dims + 1)) != 0) throw new InvalidDataException($"{path}: {bytes.Length} bytes is not a whole number of {dims}-dimension rows.");
        count = bytes.Length / (4 * (dims + 1));
        var raw = MemoryMarshal.Cast<byte, int>(bytes.AsSpan());
        var data = new int[count * dims];
        for (var i = 0; i < count; i++)
        {
            if (raw[i * (dims + 1)] != dims) throw new InvalidDataException($"{path}: row {i} has {raw[i * (dims + 1)]} dimensions, not {dims}.");
            raw.Slice((i * (dims + 1)) + 1, dims).CopyTo(data.AsSpan(i * dims, dims));
        }
        return data;
    }

    public static void Write<T>(string path, ReadOnlySpan<T> data, int dims) where T : unmanaged
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        Span<byte> header = stackalloc byte[4];
        BitConverter.TryWriteBytes(header, dims);
        for (var i = 0; i < data.Length / dims; i++)
        {
            stream.Write(header);
            stream.Write(MemoryMarshal.AsBytes(data.Slice(i * dims, dims)));
        }
    }
}
