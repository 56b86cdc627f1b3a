using SharpGpt.Kernels;

namespace SharpGpt.Tests.Kernels;

public sealed unsafe class BFloat16Tests
{
    /// <summary>fp32 bit patterns and the bf16 that round-to-nearest-even gives, with the reason.</summary>
    public static TheoryData<uint, ushort, string> Cases() => new()
    {
        { 0x3F80_0000, 0x3F80, "1 is exact" },
        { 0x3F80_8000, 0x3F80, "tie, kept bit even: down" },
        { 0x3F81_8000, 0x3F82, "tie, kept bit odd: up to even" },
        { 0x3F80_8001, 0x3F81, "just above the tie: up" },
        { 0x3F80_7FFF, 0x3F80, "just below the tie: down" },
        { 0xBF81_8000, 0xBF82, "negative tie: to even, magnitude up" },
        { 0x3FFF_FFFF, 0x4000, "carry out of the mantissa raises the exponent (1.99999988 -> 2)" },
        { 0x3FFF_8000, 0x4000, "tie at the top of a binade: to even, into the next exponent" },
        { 0x7F7F_FFFF, 0x7F80, "largest finite fp32 rounds up to infinity" },
        { 0x7F7F_8000, 0x7F80, "tie above the largest finite bf16 (odd): to infinity" },
        { 0x7F7F_7FFF, 0x7F7F, "just below that tie: stays the largest finite bf16" },
        { 0xFF7F_FFFF, 0xFF80, "negative overflow: -infinity" },
        { 0x7F80_0000, 0x7F80, "+infinity" },
        { 0xFF80_0000, 0xFF80, "-infinity" },
        { 0x7FC0_0000, 0x7FC0, "quiet NaN" },
        { 0x7F80_0001, 0x7FC0, "signalling NaN with only low payload bits: still a NaN, made quiet" },
        { 0x7FFF_FFFF, 0x7FFF, "NaN with every mantissa bit set: rounding would carry into the sign bit" },
        { 0x7FBF_FFFF, 0x7FFF, "signalling NaN: truncated, not rounded, and made quiet" },
        { 0xFF80_0001, 0xFFC0, "negative NaN keeps its sign" },
        { 0x7FA0_0000, 0x7FE0, "NaN keeps its upper payload" },
        { 0x0000_0000, 0x0000, "+0" },
        { 0x8000_0000, 0x8000, "-0 keeps its sign" },
        { 0x0000_0001, 0x0000, "smallest subnormal rounds to +0" },
        { 0x8000_0001, 0x8000, "smallest negative subnormal rounds to -0" },
        { 0x0000_8000, 0x0000, "subnormal tie, even: down to 0" },
        { 0x0001_8000, 0x0002, "subnormal tie, odd: up to even" },
        { 0x0000_8001, 0x0001, "above the tie: smallest bf16 subnormal" },
        { 0x007F_FFFF, 0x0080, "largest subnormal carries into the smallest normal" },
        { 0x8040_4000, 0x8040, "negative subnormal below the tie" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void RoundsToNearestEven(uint bits, ushort expected, string why)
    {
        float value = BitConverter.UInt32BitsToSingle(bits);
        Assert.True(expected == BFloat16.FromFloat(value), $"{bits:X8} ({why}): got {BFloat16.FromFloat(value):X4}, expected {expected:X4}");
        Assert.True(expected == Vectorised(value), $"{bits:X8} ({why}), vectorised: got {Vectorised(value):X4}, expected {expected:X4}");
        Assert.True(expected == Reference(bits), $"{bits:X8} ({why}): the test's reference gives {Reference(bits):X4}");
    }

    [Fact]
    public void MatchesTheReferenceOnRandomBitPatterns()
    {
        var rng = new Random(1);
        for (int i = 0; i < 200_000; i++)
        {
            uint bits = (uint)rng.NextInt64(0, 1L << 32);
            ushort got = BFloat16.FromFloat(BitConverter.UInt32BitsToSingle(bits));
            if (got != Reference(bits))
            {
                Assert.Fail($"{bits:X8}: got {got:X4}, expected {Reference(bits):X4}");
            }
        }
    }

    [Fact]
    public void VectorisedEqualsScalarOnRandomBitPatterns()
    {
        // Odd length and an odd offset: vector loop, unaligned loads and the scalar tail all run.
        const int n = 1_000_003;
        var rng = new Random(2);
        var input = new float[n + 1];
        for (int i = 0; i < input.Length; i++)
        {
            // Half arbitrary bits (NaNs, infinities, subnormals included), half ordinary values.
            input[i] = i % 2 == 0 ? BitConverter.UInt32BitsToSingle((uint)rng.NextInt64(0, 1L << 32)) : (float)(rng.NextDouble() * 8 - 4);
        }

        var output = new ushort[n + 1];
        fixed (float* src = input)
        fixed (ushort* dst = output)
        {
            BFloat16.FromFloat(dst + 1, src + 1, n);
        }

        Assert.Equal(0, output[0]);
        for (int i = 1; i <= n; i++)
        {
            if (output[i] != BFloat16.FromFloat(input[i]))
            {
                Assert.Fail($"[{i}] {BitConverter.SingleToUInt32Bits(input[i]):X8}: vector {output[i]:X4}, scalar {BFloat16.FromFloat(input[i]):X4}");
            }
        }
    }

    [Fact]
    public void WideningIsExactForEveryBf16Value()
    {
        var all = new ushort[65536 + 3];
        for (int i = 0; i < 65536; i++)
        {
            all[i + 3] = (ushort)i;
        }

        var wide = new float[all.Length];
        fixed (ushort* src = all)
        fixed (float* dst = wide)
        {
            BFloat16.ToFloat(dst + 3, src + 3, 65536);
        }

        for (int i = 0; i < 65536; i++)
        {
            uint expected = (uint)i << 16;
            Assert.Equal(expected, BitConverter.SingleToUInt32Bits(BFloat16.ToFloat((ushort)i)));
            Assert.Equal(expected, BitConverter.SingleToUInt32Bits(wide[i + 3]));

            // Every bf16 value survives the round trip; a NaN comes back quiet.
            bool nan = (i & 0x7FFF) > 0x7F80;
            Assert.Equal(nan ? i | 0x40 : i, BFloat16.FromFloat(wide[i + 3]));
        }
    }

    [Fact]
    public void ParallelConversionEqualsSerialBothWays()
    {
        const int n = (3 << 16) + 11; // several blocks and a partial one
        var rng = new Random(3);
        var input = new float[n];
        for (int i = 0; i < n; i++)
        {
            input[i] = (float)(rng.NextDouble() * 2 - 1);
        }

        var serial = new ushort[n];
        var parallel = new ushort[n];
        var wideSerial = new float[n];
        var wideParallel = new float[n];
        using var runner = new ParallelRunner(2);
        fixed (float* src = input, ws = wideSerial, wp = wideParallel)
        fixed (ushort* s = serial, p = parallel)
        {
            BFloat16.FromFloat(s, src, n);
            BFloat16.Convert(runner, p, src, n);
            BFloat16.ToFloat(ws, s, n);
            BFloat16.Convert(runner, wp, p, n);
        }

        using var fp32 = new NativeBuffer(8);
        Assert.Throws<ArgumentException>(() => BFloat16.Convert(runner, fp32.Pointer, fp32.Pointer, 8));

        Assert.Equal(serial, parallel);
        Assert.Equal(wideSerial, wideParallel);
    }

    private static ushort Vectorised(float value)
    {
        float* lanes = stackalloc float[8];
        ushort* result = stackalloc ushort[8];
        for (int i = 0; i < 8; i++)
        {
            lanes[i] = value;
        }

        BFloat16.FromFloat(result, lanes, 8);
        return result[7];
    }

    /// <summary>
    /// Round to nearest even from the definition, in exact arithmetic: of the two bf16 neighbours
    /// of x, the nearer; on a tie the one whose last mantissa bit is 0; past the largest finite bf16
    /// the upper neighbour is 2^128, which stands for infinity.
    /// </summary>
    private static ushort Reference(uint bits)
    {
        float x = BitConverter.UInt32BitsToSingle(bits);
        ushort sign = (ushort)((bits >> 16) & 0x8000);
        if (float.IsNaN(x))
        {
            return (ushort)((bits >> 16) | 0x40);
        }

        if (float.IsInfinity(x))
        {
            return (ushort)(bits >> 16);
        }

        ushort down = (ushort)((bits >> 16) & 0x7FFF); // magnitude truncated: the neighbour towards zero
        double magnitude = Math.Abs((double)x);
        double low = BitConverter.UInt32BitsToSingle((uint)down << 16);
        double high = down == 0x7F7F ? Math.Pow(2, 128) : BitConverter.UInt32BitsToSingle((uint)(down + 1) << 16);
        double below = magnitude - low, above = high - magnitude; // exact: all three are fp32 values or 2^128
        bool up = above < below || (above == below && (down & 1) == 1);
        return (ushort)(sign | (up ? down + 1 : down));
    }
}
