using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpGpt.Kernels;

/// <summary>
/// bfloat16 stored as <see cref="ushort"/>: the upper 16 bits of an IEEE fp32 (sign, 8-bit exponent,
/// 7-bit mantissa). fp32 to bf16 rounds to nearest, ties to even, as PyTorch and the hardware
/// conversion instructions do: a value past the largest finite bf16 rounds to infinity, infinities
/// stay infinite and a NaN stays a NaN (made quiet, sign kept). bf16 to fp32 is exact. The vector
/// forms give bit for bit what the scalar ones give.
/// </summary>
internal static unsafe class BFloat16
{
    /// <summary>Elements per part of the parallel conversion: large enough to amortise the hand-off.</summary>
    private const int Block = 1 << 16;

    private const uint SignMask = 0x8000_0000;
    private const uint Infinity = 0x7F80_0000;
    private const uint QuietBit = 0x0040_0000;

    private struct Args
    {
        public TypedPointer Output, Input;
        public long N;
    }

    /// <summary>fp32 to bf16, round to nearest, ties to even.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort FromFloat(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if ((bits & ~SignMask) > Infinity)
        {
            // Rounding could carry a NaN's low payload bits away and leave infinity: keep it a NaN.
            return (ushort)((bits | QuietBit) >> 16);
        }

        // Adding just under half an ulp, plus the lowest kept bit, rounds ties to even; a carry out of
        // the mantissa raises the exponent, and out of the largest finite value gives infinity.
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }

    /// <summary>bf16 to fp32, exact.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToFloat(ushort value) => BitConverter.UInt32BitsToSingle((uint)value << 16);

    /// <summary>Eight fp32 lanes to bf16, rounded as <see cref="FromFloat(float)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<ushort> FromFloat(Vector256<float> value)
    {
        Vector256<uint> bits = value.AsUInt32();
        Vector256<uint> rounded = bits + Vector256.Create(0x7FFFu) + ((bits >>> 16) & Vector256<uint>.One);
        Vector256<uint> nan = Vector256.GreaterThan((bits & Vector256.Create(~SignMask)).AsInt32(), Vector256.Create((int)Infinity)).AsUInt32();
        Vector256<uint> upper = Vector256.ConditionalSelect(nan, bits | Vector256.Create(QuietBit), rounded) >>> 16;
        return Vector128.Narrow(upper.GetLower(), upper.GetUpper());
    }

    /// <summary>Stores the lanes of <paramref name="value"/> as bf16 at <paramref name="destination"/>,
    /// for the element-wise kernels, which work in <see cref="Vector{T}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Store(Vector<float> value, ushort* destination)
    {
        if (Vector<float>.Count == 8)
        {
            FromFloat(value.AsVector256()).Store(destination);
            return;
        }

        for (int i = 0; i < Vector<float>.Count; i++)
        {
            destination[i] = FromFloat(value[i]);
        }
    }

    /// <summary>Eight bf16 values at <paramref name="source"/> widened to fp32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Load8(ushort* source)
    {
        if (Avx2.IsSupported)
        {
            // vpmovzxwd takes its operand straight from memory.
            return Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(source), 16).AsSingle();
        }

        Vector128<ushort> v = Vector128.Load(source);
        return (Vector256.Create(Vector128.WidenLower(v), Vector128.WidenUpper(v)) << 16).AsSingle();
    }

    /// <summary>output[i] = bf16(input[i]) for i &lt; n, on the calling thread.</summary>
    public static void FromFloat(ushort* output, float* input, long n)
    {
        long i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8)
            {
                FromFloat(Vector256.Load(input + i)).Store(output + i);
            }
        }

        for (; i < n; i++)
        {
            output[i] = FromFloat(input[i]);
        }
    }

    /// <summary>output[i] = fp32(input[i]) for i &lt; n, on the calling thread.</summary>
    public static void ToFloat(float* output, ushort* input, long n)
    {
        long i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8)
            {
                Load8(input + i).Store(output + i);
            }
        }

        for (; i < n; i++)
        {
            output[i] = ToFloat(input[i]);
        }
    }

    /// <summary>fp32 to bf16 or bf16 to fp32 (the two pointers say which), n elements, in blocks over the runner's threads.</summary>
    public static void Convert(ParallelRunner runner, TypedPointer output, TypedPointer input, long n)
    {
        if (output.IsBf16 == input.IsBf16)
        {
            throw new ArgumentException($"A conversion goes between fp32 and bf16, but both sides are {(input.IsBf16 ? "bf16" : "fp32")}.");
        }

        var args = new Args { Output = output, Input = input, N = n };
        runner.For(checked((int)((n + Block - 1) / Block)), &ConvertBlock, &args);
    }

    private static void ConvertBlock(int part, void* p)
    {
        var a = (Args*)p;
        long start = (long)part * Block, count = Math.Min(Block, a->N - start);
        if (a->Output.IsBf16)
        {
            FromFloat(a->Output.Bf16 + start, a->Input.Fp32 + start, count);
        }
        else
        {
            ToFloat(a->Output.Fp32 + start, a->Input.Bf16 + start, count);
        }
    }
}
