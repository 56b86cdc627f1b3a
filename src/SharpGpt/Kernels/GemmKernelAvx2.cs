using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpGpt.Kernels;

/// <summary>
/// The AVX2 micro-kernel: a 6x16 tile of C kept in 12 ymm accumulators (12 independent FMA
/// chains cover the 4-cycle latency of two FMA pipes), fed by a packed A panel ([k][6]) and a
/// packed B panel ([k][16]).
/// </summary>
internal static unsafe class GemmKernelAvx2
{
    public const int MR = 6;
    public const int NR = 16;

    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>C[6,16] = (load ? C : 0) + A·B (+ bias[16] when bias != null).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, float* c, int ldc, bool load, float* bias)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector256<float> c40 = default, c41 = default, c50 = default, c51 = default;

        // The C tile is needed only after the k loop; start fetching it now so the loads and
        // stores at the end do not wait on memory.
        if (Sse.IsSupported)
        {
            float* cr = c;
            for (int r = 0; r < MR; r++, cr += ldc)
            {
                Sse.Prefetch0(cr);
                Sse.Prefetch0(cr + 15);
            }
        }

        // Unrolled by four: the loop overhead otherwise costs ~10% of FMA throughput.
        int p = 0;
        for (; p + 4 <= kc; p += 4)
        {
            Step(a, b, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21,
                ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            Step(a + MR, b + NR, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21,
                ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            Step(a + 2 * MR, b + 2 * NR, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21,
                ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            Step(a + 3 * MR, b + 3 * NR, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21,
                ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            a += 4 * MR;
            b += 4 * NR;
        }

        for (; p < kc; p++)
        {
            Step(a, b, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21,
                ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            a += MR;
            b += NR;
        }

        Store(c, c00, c01, load, bias);
        Store(c + ldc, c10, c11, load, bias);
        Store(c + 2 * ldc, c20, c21, load, bias);
        Store(c + 3 * ldc, c30, c31, load, bias);
        Store(c + 4 * ldc, c40, c41, load, bias);
        Store(c + 5 * ldc, c50, c51, load, bias);
    }

    /// <summary>
    /// As <see cref="Run"/>, with A read in place instead of from a packed panel: row r of the 6 rows
    /// at a + r lda, k contiguous. Broadcasts read any address as fast as a packed panel, so a
    /// row-major A needs no packing (for K = 128 packing it cost as much as 10% of the product).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunStrided(int kc, float* a, nint lda, float* b, float* c, int ldc, bool load, float* bias)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector256<float> c40 = default, c41 = default, c50 = default, c51 = default;
        float* a1 = a + lda, a2 = a + (2 * lda), a3 = a + (3 * lda), a4 = a + (4 * lda), a5 = a + (5 * lda);
        for (int p = 0; p < kc; p++)
        {
            Vector256<float> b0 = Avx.LoadAlignedVector256(b);
            Vector256<float> b1 = Avx.LoadAlignedVector256(b + 8);
            Vector256<float> av = Avx.BroadcastScalarToVector256(a + p);
            c00 = Fma.MultiplyAdd(av, b0, c00);
            c01 = Fma.MultiplyAdd(av, b1, c01);
            av = Avx.BroadcastScalarToVector256(a1 + p);
            c10 = Fma.MultiplyAdd(av, b0, c10);
            c11 = Fma.MultiplyAdd(av, b1, c11);
            av = Avx.BroadcastScalarToVector256(a2 + p);
            c20 = Fma.MultiplyAdd(av, b0, c20);
            c21 = Fma.MultiplyAdd(av, b1, c21);
            av = Avx.BroadcastScalarToVector256(a3 + p);
            c30 = Fma.MultiplyAdd(av, b0, c30);
            c31 = Fma.MultiplyAdd(av, b1, c31);
            av = Avx.BroadcastScalarToVector256(a4 + p);
            c40 = Fma.MultiplyAdd(av, b0, c40);
            c41 = Fma.MultiplyAdd(av, b1, c41);
            av = Avx.BroadcastScalarToVector256(a5 + p);
            c50 = Fma.MultiplyAdd(av, b0, c50);
            c51 = Fma.MultiplyAdd(av, b1, c51);
            b += NR;
        }

        Store(c, c00, c01, load, bias);
        Store(c + ldc, c10, c11, load, bias);
        Store(c + (2 * ldc), c20, c21, load, bias);
        Store(c + (3 * ldc), c30, c31, load, bias);
        Store(c + (4 * ldc), c40, c41, load, bias);
        Store(c + (5 * ldc), c50, c51, load, bias);
    }

    /// <summary>One k step: the 6x16 rank-1 update. Inlined, so the accumulators stay in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(float* a, float* b,
        ref Vector256<float> c00, ref Vector256<float> c01, ref Vector256<float> c10, ref Vector256<float> c11,
        ref Vector256<float> c20, ref Vector256<float> c21, ref Vector256<float> c30, ref Vector256<float> c31,
        ref Vector256<float> c40, ref Vector256<float> c41, ref Vector256<float> c50, ref Vector256<float> c51)
    {
        Vector256<float> b0 = Avx.LoadAlignedVector256(b);
        Vector256<float> b1 = Avx.LoadAlignedVector256(b + 8);
        Vector256<float> av = Avx.BroadcastScalarToVector256(a);
        c00 = Fma.MultiplyAdd(av, b0, c00);
        c01 = Fma.MultiplyAdd(av, b1, c01);
        av = Avx.BroadcastScalarToVector256(a + 1);
        c10 = Fma.MultiplyAdd(av, b0, c10);
        c11 = Fma.MultiplyAdd(av, b1, c11);
        av = Avx.BroadcastScalarToVector256(a + 2);
        c20 = Fma.MultiplyAdd(av, b0, c20);
        c21 = Fma.MultiplyAdd(av, b1, c21);
        av = Avx.BroadcastScalarToVector256(a + 3);
        c30 = Fma.MultiplyAdd(av, b0, c30);
        c31 = Fma.MultiplyAdd(av, b1, c31);
        av = Avx.BroadcastScalarToVector256(a + 4);
        c40 = Fma.MultiplyAdd(av, b0, c40);
        c41 = Fma.MultiplyAdd(av, b1, c41);
        av = Avx.BroadcastScalarToVector256(a + 5);
        c50 = Fma.MultiplyAdd(av, b0, c50);
        c51 = Fma.MultiplyAdd(av, b1, c51);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector256<float> v0, Vector256<float> v1, bool load, float* bias)
    {
        if (load)
        {
            v0 = Vector256.Load(c) + v0;
            v1 = Vector256.Load(c + 8) + v1;
        }

        if (bias != null)
        {
            v0 += Vector256.Load(bias);
            v1 += Vector256.Load(bias + 8);
        }

        v0.Store(c);
        v1.Store(c + 8);
    }
}
