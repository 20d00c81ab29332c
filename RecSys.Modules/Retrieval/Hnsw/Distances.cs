using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RecSys.Retrieval.Hnsw;

/// <summary>
/// Distance kernels over raw float references (no span or bounds-check overhead in the graph walk): AVX-512 when the
/// machine has it, else 256-bit vectors, with a scalar tail for dimensions that are not a multiple of the width.
/// </summary>
internal static class Distances
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(ref float a, ref float b, int n)
    {
        var i = 0;
        float sum;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var acc0 = Vector512<float>.Zero;
            var acc1 = Vector512<float>.Zero;
            for (; i <= n - 32; i += 32)
            {
                acc0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref a, (nuint)i), Vector512.LoadUnsafe(ref b, (nuint)i), acc0);
                acc1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref a, (nuint)(i + 16)), Vector512.LoadUnsafe(ref b, (nuint)(i + 16)), acc1);
            }
            if (i <= n - 16)
            {
                acc0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref a, (nuint)i), Vector512.LoadUnsafe(ref b, (nuint)i), acc0);
                i += 16;
            }
            sum = Vector512.Sum(acc0 + acc1);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var acc0 = Vector256<float>.Zero;
            var acc1 = Vector256<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                acc0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, (nuint)i), Vector256.LoadUnsafe(ref b, (nuint)i), acc0);
                acc1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, (nuint)(i + 8)), Vector256.LoadUnsafe(ref b, (nuint)(i + 8)), acc1);
            }
            if (i <= n - 8)
            {
                acc0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, (nuint)i), Vector256.LoadUnsafe(ref b, (nuint)i), acc0);
                i += 8;
            }
            sum = Vector256.Sum(acc0 + acc1);
        }
        else
        {
            return TensorPrimitives.Dot(
                System.Runtime.InteropServices.MemoryMarshal.CreateReadOnlySpan(ref a, n),
                System.Runtime.InteropServices.MemoryMarshal.CreateReadOnlySpan(ref b, n));
        }
        for (; i < n; i++) sum += Unsafe.Add(ref a, i) * Unsafe.Add(ref b, i);
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SquaredL2(ref float a, ref float b, int n)
    {
        var i = 0;
        float sum;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var acc0 = Vector512<float>.Zero;
            var acc1 = Vector512<float>.Zero;
            for (; i <= n - 32; i += 32)
            {
                var d0 = Vector512.LoadUnsafe(ref a, (nuint)i) - Vector512.LoadUnsafe(ref b, (nuint)i);
                var d1 = Vector512.LoadUnsafe(ref a, (nuint)(i + 16)) - Vector512.LoadUnsafe(ref b, (nuint)(i + 16));
                acc0 = Vector512.FusedMultiplyAdd(d0, d0, acc0);
                acc1 = Vector512.FusedMultiplyAdd(d1, d1, acc1);
            }
            if (i <= n - 16)
            {
                var d0 = Vector512.LoadUnsafe(ref a, (nuint)i) - Vector512.LoadUnsafe(ref b, (nuint)i);
                acc0 = Vector512.FusedMultiplyAdd(d0, d0, acc0);
                i += 16;
            }
            sum = Vector512.Sum(acc0 + acc1);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var acc0 = Vector256<float>.Zero;
            for (; i <= n - 8; i += 8)
            {
                var d0 = Vector256.LoadUnsafe(ref a, (nuint)i) - Vector256.LoadUnsafe(ref b, (nuint)i);
                acc0 = Vector256.FusedMultiplyAdd(d0, d0, acc0);
            }
            sum = Vector256.Sum(acc0);
        }
        else
        {
            return TensorPrimitives.Distance(
                System.Runtime.InteropServices.MemoryMarshal.CreateReadOnlySpan(ref a, n),
                System.Runtime.InteropServices.MemoryMarshal.CreateReadOnlySpan(ref b, n)) is var d ? d * d : 0f;
        }
        for (; i < n; i++)
        {
            var d = Unsafe.Add(ref a, i) - Unsafe.Add(ref b, i);
            sum += d * d;
        }
        return sum;
    }

    /// <summary>Scales <paramref name="v"/> to unit length in place (a zero vector stays zero).</summary>
    public static void Normalize(Span<float> v)
    {
        var norm = TensorPrimitives.Norm(v);
        if (norm > 0f) TensorPrimitives.Divide(v, norm, v);
    }
}
