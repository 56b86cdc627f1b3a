using ILGPU;

namespace SharpGpt.Gpu.Kernels;

/// <summary>Device-side helpers the kernels share: grid-stride indices, warp reductions, bf16 rounding.</summary>
internal static class KernelMath
{
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2 = 0.693147180559945309f;

    /// <summary>This thread's index in the grid.</summary>
    public static int ThreadIndex => (Grid.IdxX * Group.DimX) + Group.IdxX;

    /// <summary>Threads in the grid: the stride of a grid-stride loop.</summary>
    public static int ThreadCount => Grid.DimX * Group.DimX;

    /// <summary>This warp's index in the grid.</summary>
    public static int WarpIndex => (Grid.IdxX * (Group.DimX / Warp.WarpSize)) + Warp.WarpIdx;

    /// <summary>Warps in the grid.</summary>
    public static int WarpCount => Grid.DimX * (Group.DimX / Warp.WarpSize);

    /// <summary>The sum over the warp's lanes, in every lane (butterfly, so each lane adds in the same order).</summary>
    public static float WarpSum(float value)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset /= 2)
        {
            value += Warp.ShuffleXor(value, offset);
        }

        return value;
    }

    public static double WarpSum(double value)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset /= 2)
        {
            value += Warp.ShuffleXor(value, offset);
        }

        return value;
    }

    public static float WarpMax(float value)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset /= 2)
        {
            value = MathF.Max(value, Warp.ShuffleXor(value, offset));
        }

        return value;
    }

    /// <summary>e^x as 2^(x log2 e): PTX has ex2 (ex2.approx.f32, about 2 ulp) and no exp instruction.</summary>
    public static float Exp(float x) => IntrinsicMath.CPUOnly.Exp2(x * Log2E);

    /// <summary>ln x as log2(x) ln 2: PTX has lg2 and no log instruction.</summary>
    public static float Log(float x) => IntrinsicMath.CPUOnly.Log2(x) * Ln2;

    /// <summary>fp32 to bf16 with integer arithmetic, round to nearest even, NaN kept a (quiet) NaN:
    /// bit for bit <see cref="SharpGpt.Kernels.BFloat16.FromFloat(float)"/>.</summary>
    public static ushort ToBf16(float value)
    {
        uint bits = (uint)BitConverter.SingleToInt32Bits(value);
        if ((bits & 0x7FFF_FFFFu) > 0x7F80_0000u)
        {
            return (ushort)((bits | 0x0040_0000u) >> 16);
        }

        return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
    }

    /// <summary>bf16 to fp32, exact.</summary>
    public static float FromBf16(ushort value) => BitConverter.Int32BitsToSingle(value << 16);
}
