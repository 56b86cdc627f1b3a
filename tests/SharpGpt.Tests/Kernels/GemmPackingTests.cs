using SharpGpt.Kernels;

namespace SharpGpt.Tests.Kernels;

/// <summary>The bf16 packers write, bit for bit, the panels the fp32 packers write from the widened source.</summary>
public sealed unsafe class GemmPackingTests
{
    /// <summary>Panel widths of every micro-kernel: MR 4/6/8 and NR 16/32.</summary>
    private static readonly int[] Widths = [4, 6, 8, 16, 32];

    /// <summary>Depths below, at and past the 8-deep transpose blocks, and a full KC slice.</summary>
    private static readonly int[] Depths = [1, 7, 8, 13, 256];

    [Fact]
    public void TransposedBf16PanelsEqualFp32Panels()
    {
        int seed = 0;
        foreach (int width in Widths)
        {
            foreach (int rows in new[] { 1, width - 1, width }.Distinct())
            {
                foreach (int kc in Depths)
                {
                    int ld = kc + 3;
                    var (wide, narrow) = Source(rows, kc, ld, seed++);
                    float[] expected = Destination(width * kc), got = Destination(width * kc);
                    fixed (float* s32 = wide, e = expected, g = got)
                    fixed (ushort* s16 = narrow)
                    {
                        GemmPacking.PackTransposed(s32, ld, rows, width, kc, e);
                        GemmPacking.PackTransposed(s16, ld, rows, width, kc, g);
                    }

                    AssertSameBits(expected, got, $"transposed width={width} rows={rows} kc={kc}");
                }
            }
        }
    }

    [Fact]
    public void CopiedBf16PanelsEqualFp32Panels()
    {
        int seed = 100;
        foreach (int width in Widths)
        {
            // One partial panel, whole panels, and whole panels plus a partial one.
            foreach (int cols in new[] { width - 1, 2 * width, (3 * width) + 5 }.Where(c => c > 0))
            {
                foreach (int kc in Depths)
                {
                    int ld = cols + 5;
                    int panels = (cols + width - 1) / width;
                    var (wide, narrow) = Source(kc, cols, ld, seed++);
                    float[] expected = Destination(panels * width * kc), got = Destination(panels * width * kc);
                    fixed (float* s32 = wide, e = expected, g = got)
                    fixed (ushort* s16 = narrow)
                    {
                        GemmPacking.PackCopy(s32, ld, cols, width, kc, e);
                        GemmPacking.PackCopy(s16, ld, cols, width, kc, g);
                    }

                    AssertSameBits(expected, got, $"copy width={width} cols={cols} kc={kc}");
                }
            }
        }
    }

    /// <summary>A rows x cols matrix with row stride ld of random bf16 values, and its fp32 widening; the
    /// padding past each row is NaN in both, so a packer that reads it leaves NaN in a panel.</summary>
    private static (float[] Wide, ushort[] Narrow) Source(int rows, int cols, int ld, int seed)
    {
        var rng = new Random(seed);
        var narrow = new ushort[rows * ld];
        var wide = new float[rows * ld];
        for (int i = 0; i < narrow.Length; i++)
        {
            narrow[i] = BFloat16.FromFloat(i % ld < cols ? (float)(rng.NextDouble() * 2 - 1) : float.NaN);
            wide[i] = BFloat16.ToFloat(narrow[i]);
        }

        return (wide, narrow);
    }

    /// <summary>A panel buffer holding a sentinel, so the zero padding must be written, not assumed.
    /// (The packers prefetch a few rows past the source; prefetches never fault.)</summary>
    private static float[] Destination(int length)
    {
        var dest = new float[length];
        Array.Fill(dest, -7f);
        return dest;
    }

    private static void AssertSameBits(float[] expected, float[] got, string what)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            if (float.IsNaN(expected[i]))
            {
                Assert.Fail($"{what}: the fp32 packer read the source's padding into [{i}]");
            }

            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(got[i]))
            {
                Assert.Fail($"{what}: [{i}] = {got[i]}, expected {expected[i]}");
            }
        }
    }
}
