using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpGpt.Kernels;

/// <summary>
/// Packs one micro-panel of A or B into the layout the micro-kernels stream: for each k, the
/// panel's <c>width</c> values (MR rows of A or NR columns of B) lie next to each other, so the
/// kernel reads both operands with unit stride. Lanes past the matrix edge are zero-filled, which
/// lets edge tiles run the same full-size kernel. Transposed operands are absorbed here, and so are
/// bf16 ones: widened exactly into the same fp32 panels, they reach the kernels as fp32.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>Source rows that the fp32 <c>PackCopy</c> packs per block (whole 64-byte lines of a 6- or 16-wide panel), and how far ahead the bf16 one prefetches.</summary>
    private const int RowBlock = 8;

    /// <summary>
    /// Source element (r, p) sits at <c>src[r * ld + p]</c> (k is contiguous): writes
    /// <c>dest[p * width + r]</c> for r &lt; width (zero past <paramref name="rows"/>), p &lt; kc.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackTransposed(float* src, nint ld, int rows, int width, int kc, float* dest)
    {
        int p = 0;
        if (Avx.IsSupported && rows == width)
        {
            for (; p + 8 <= kc; p += 8)
            {
                int g = 0;
                for (; g + 8 <= width; g += 8)
                {
                    Transpose8x8(src + g * ld + p, ld, 8, dest + (nint)p * width + g, width);
                }

                if (g < width)
                {
                    Transpose8x8(src + g * ld + p, ld, width - g, dest + (nint)p * width + g, width);
                }
            }
        }

        for (; p < kc; p++)
        {
            float* d = dest + (nint)p * width;
            int r = 0;
            for (; r < rows; r++)
            {
                d[r] = src[r * ld + p];
            }

            for (; r < width; r++)
            {
                d[r] = 0f;
            }
        }
    }

    /// <summary>
    /// Source element (p, j) sits at <c>src[p * ld + j]</c> (lanes are contiguous): packs
    /// <c>ceil(cols / width)</c> consecutive panels, panel q at <c>dest + q * width * kc</c> holding
    /// columns [q * width, (q + 1) * width) with zeros past <paramref name="cols"/>. Works in blocks
    /// of <see cref="RowBlock"/> source rows, panel by panel within a block, so each panel's part
    /// of the block (whole cache lines) is written in one go: panels lie a multiple of 4 KiB apart,
    /// and a row-by-row walk kept dozens of half-written lines in the same few L1 sets.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackCopy(float* src, nint ld, int cols, int width, int kc, float* dest)
    {
        int full = cols / width;
        int rest = cols - full * width;
        nint panelStride = (nint)width * kc;

        // Panels narrower than a vector (the AVX2 kernel's six-row A panels) copy each row as one
        // 8-float vector whose overhang lands on the panel's next row, written right after; the
        // block's last row, and any vector that would read past the source row, copy exactly.
        bool overhang = width < 8 && Vector256.IsHardwareAccelerated;
        int wide = overhang && cols >= 8 ? Math.Min(full, ((cols - 8) / width) + 1) : 0;
        for (int p0 = 0; p0 < kc; p0 += RowBlock)
        {
            int rows = Math.Min(RowBlock, kc - p0);
            if (Sse.IsSupported)
            {
                // Rows are far apart (often in different pages), which defeats the hardware
                // prefetchers; fetch the next block's rows, one request per cache line.
                for (int p = 0; p < rows; p++)
                {
                    float* ahead = src + ((p0 + RowBlock + p) * ld);
                    for (int j = 0; j < cols; j += 16)
                    {
                        Sse.Prefetch0(ahead + j);
                    }

                    Sse.Prefetch0(ahead + cols - 1);
                }
            }

            for (int q = 0; q < full; q++)
            {
                float* s = src + (p0 * ld) + (q * width);
                float* d = dest + (q * panelStride) + ((nint)p0 * width);
                int p = 0;
                if (q < wide)
                {
                    for (; p < rows - 1; p++, s += ld, d += width)
                    {
                        Vector256.Store(Vector256.Load(s), d);
                    }
                }

                for (; p < rows; p++, s += ld, d += width)
                {
                    CopyRow(s, d, width);
                }
            }

            if (rest > 0)
            {
                float* s = src + (p0 * ld) + (full * width);
                float* d = dest + (full * panelStride) + ((nint)p0 * width);
                for (int p = 0; p < rows; p++, s += ld, d += width)
                {
                    int j = 0;
                    for (; j < rest; j++)
                    {
                        d[j] = s[j];
                    }

                    for (; j < width; j++)
                    {
                        d[j] = 0f;
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRow(float* s, float* d, int count)
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; j + 8 <= count; j += 8)
            {
                Vector256.Store(Vector256.Load(s + j), d + j);
            }
        }

        if (Vector128.IsHardwareAccelerated)
        {
            for (; j + 4 <= count; j += 4)
            {
                Vector128.Store(Vector128.Load(s + j), d + j);
            }
        }

        for (; j < count; j++)
        {
            d[j] = s[j];
        }
    }

    /// <summary><see cref="PackTransposed(float*, nint, int, int, int, float*)"/> from an fp32 or a bf16 source.</summary>
    public static void PackTransposed(TypedPointer src, nint ld, int rows, int width, int kc, float* dest)
    {
        if (src.IsBf16)
        {
            PackTransposed(src.Bf16, ld, rows, width, kc, dest);
        }
        else
        {
            PackTransposed(src.Fp32, ld, rows, width, kc, dest);
        }
    }

    /// <summary><see cref="PackCopy(float*, nint, int, int, int, float*)"/> from an fp32 or a bf16 source.</summary>
    public static void PackCopy(TypedPointer src, nint ld, int cols, int width, int kc, float* dest)
    {
        if (src.IsBf16)
        {
            PackCopy(src.Bf16, ld, cols, width, kc, dest);
        }
        else
        {
            PackCopy(src.Fp32, ld, cols, width, kc, dest);
        }
    }

    /// <summary>As the fp32 overload, from a bf16 source widened (exactly) into the same fp32 panel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackTransposed(ushort* src, nint ld, int rows, int width, int kc, float* dest)
    {
        int p = 0;
        if (Avx2.IsSupported && rows == width)
        {
            for (; p + 8 <= kc; p += 8)
            {
                int g = 0;
                for (; g + 8 <= width; g += 8)
                {
                    Transpose8x8(src + g * ld + p, ld, 8, dest + (nint)p * width + g, width);
                }

                if (g < width)
                {
                    Transpose8x8(src + g * ld + p, ld, width - g, dest + (nint)p * width + g, width);
                }
            }
        }

        for (; p < kc; p++)
        {
            float* d = dest + (nint)p * width;
            int r = 0;
            for (; r < rows; r++)
            {
                d[r] = BFloat16.ToFloat(src[r * ld + p]);
            }

            for (; r < width; r++)
            {
                d[r] = 0f;
            }
        }
    }

    /// <summary>As the fp32 overload, from a bf16 source widened (exactly) into the same fp32 panels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackCopy(ushort* src, nint ld, int cols, int width, int kc, float* dest)
    {
        int full = cols / width;
        int rest = cols - full * width;
        nint panelStride = (nint)width * kc;
        for (int p = 0; p < kc; p++)
        {
            ushort* s = src + p * ld;
            float* d = dest + (nint)p * width;
            if (Sse.IsSupported)
            {
                // As in the fp32 overload: one request per 64-byte line (32 bf16 values), RowBlock ahead.
                ushort* ahead = s + RowBlock * ld;
                for (int j = 0; j < cols; j += 32)
                {
                    Sse.Prefetch0(ahead + j);
                }

                Sse.Prefetch0(ahead + cols - 1);
            }

            for (int q = 0; q < full; q++)
            {
                WidenRow(s, d, width);
                s += width;
                d += panelStride;
            }

            if (rest > 0)
            {
                WidenRow(s, d, rest);
                new Span<float>(d + rest, width - rest).Clear();
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WidenRow(ushort* s, float* d, int count)
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; j + 8 <= count; j += 8)
            {
                BFloat16.Load8(s + j).Store(d + j);
            }
        }

        for (; j < count; j++)
        {
            d[j] = BFloat16.ToFloat(s[j]);
        }
    }

    /// <summary>
    /// Transposes an 8 (k) x <paramref name="rows"/> block: row r's 8 consecutive values at
    /// <c>s + r * ld</c> become lane r of the 8 output vectors at <c>d + j * dstride</c>. Only
    /// <paramref name="rows"/> lanes (&lt;= 8) of each output are written; missing rows read as zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* s, nint ld, int rows, float* d, int dstride) =>
        Transpose8x8(
            Avx.LoadVector256(s),
            rows > 1 ? Avx.LoadVector256(s + ld) : default,
            rows > 2 ? Avx.LoadVector256(s + 2 * ld) : default,
            rows > 3 ? Avx.LoadVector256(s + 3 * ld) : default,
            rows > 4 ? Avx.LoadVector256(s + 4 * ld) : default,
            rows > 5 ? Avx.LoadVector256(s + 5 * ld) : default,
            rows > 6 ? Avx.LoadVector256(s + 6 * ld) : default,
            rows > 7 ? Avx.LoadVector256(s + 7 * ld) : default,
            rows, d, dstride);

    /// <summary>As the fp32 overload, from bf16 rows widened as they are loaded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(ushort* s, nint ld, int rows, float* d, int dstride) =>
        Transpose8x8(
            BFloat16.Load8(s),
            rows > 1 ? BFloat16.Load8(s + ld) : default,
            rows > 2 ? BFloat16.Load8(s + 2 * ld) : default,
            rows > 3 ? BFloat16.Load8(s + 3 * ld) : default,
            rows > 4 ? BFloat16.Load8(s + 4 * ld) : default,
            rows > 5 ? BFloat16.Load8(s + 5 * ld) : default,
            rows > 6 ? BFloat16.Load8(s + 6 * ld) : default,
            rows > 7 ? BFloat16.Load8(s + 7 * ld) : default,
            rows, d, dstride);

    /// <summary>Stores lane r of row vector j at <c>d + j * dstride + r</c>, for the first <paramref name="rows"/> rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7, int rows, float* d, int dstride)
    {
        // Interleave pairs of rows: t0 = r0[0] r1[0] r0[1] r1[1] | r0[4] r1[4] r0[5] r1[5], ...
        Vector256<float> t0 = Avx.UnpackLow(r0, r1);
        Vector256<float> t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3);
        Vector256<float> t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5);
        Vector256<float> t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7);
        Vector256<float> t7 = Avx.UnpackHigh(r6, r7);

        // Gather four rows per column within each 128-bit half: u0 = column 0 | column 4 of rows 0..3.
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44);
        Vector256<float> u1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44);
        Vector256<float> u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44);
        Vector256<float> u5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> u6 = Avx.Shuffle(t5, t7, 0x44);
        Vector256<float> u7 = Avx.Shuffle(t5, t7, 0xEE);

        // Join the halves of rows 0..3 and rows 4..7.
        StoreLanes(Avx.Permute2x128(u0, u4, 0x20), d, rows);
        StoreLanes(Avx.Permute2x128(u1, u5, 0x20), d + dstride, rows);
        StoreLanes(Avx.Permute2x128(u2, u6, 0x20), d + 2 * dstride, rows);
        StoreLanes(Avx.Permute2x128(u3, u7, 0x20), d + 3 * dstride, rows);
        StoreLanes(Avx.Permute2x128(u0, u4, 0x31), d + 4 * dstride, rows);
        StoreLanes(Avx.Permute2x128(u1, u5, 0x31), d + 5 * dstride, rows);
        StoreLanes(Avx.Permute2x128(u2, u6, 0x31), d + 6 * dstride, rows);
        StoreLanes(Avx.Permute2x128(u3, u7, 0x31), d + 7 * dstride, rows);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreLanes(Vector256<float> v, float* d, int lanes)
    {
        if (lanes == 8)
        {
            v.Store(d);
            return;
        }

        Vector128<float> lo = v.GetLower();
        if (lanes >= 4)
        {
            lo.Store(d);
            lo = v.GetUpper();
            d += 4;
            lanes -= 4;
        }

        if (lanes >= 2)
        {
            // Two lanes in one 8-byte store (the 6-row A panels of the AVX2 kernel end here).
            *(double*)d = lo.AsDouble().ToScalar();
            lo = Vector128.Shuffle(lo, Vector128.Create(2, 3, 0, 1));
            d += 2;
            lanes -= 2;
        }

        if (lanes == 1)
        {
            *d = lo.ToScalar();
        }
    }
}
