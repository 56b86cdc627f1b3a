using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpGpt.Kernels;

/// <summary>
/// The AVX-512 micro-kernel: an 8x32 tile of C kept in 16 zmm accumulators (16 independent FMA
/// chains, twice the latency x pipes product of Zen 4/5), fed by a packed A panel ([k][8]) and a
/// packed B panel ([k][32]). Written with Vector512 so it also runs (slowly, emulated) where
/// AVX-512 is missing, which lets the tests check it on any machine.
/// </summary>
internal static unsafe class GemmKernelAvx512
{
    public const int MR = 8;
    public const int NR = 32;

    public static bool IsSupported => Vector512.IsHardwareAccelerated;

    /// <summary>C[8,32] = (load ? C : 0) + A·B (+ bias[32] when bias != null).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, float* c, int ldc, bool load, float* bias)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;

        // The C tile is needed only after the k loop; start fetching it now so the loads and
        // stores at the end do not wait on memory.
        if (Sse.IsSupported)
        {
            float* cr = c;
            for (int r = 0; r < MR; r++, cr += ldc)
            {
                Sse.Prefetch0(cr);
                Sse.Prefetch0(cr + 31);
            }
        }

        // Unrolled by four to keep loop overhead off the FMA pipes.
        int p = 0;
        for (; p + 4 <= kc; p += 4)
        {
            Step(a, b, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31,
                ref c40, ref c41, ref c50, ref c51, ref c60, ref c61, ref c70, ref c71);
            Step(a + MR, b + NR, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31,
                ref c40, ref c41, ref c50, ref c51, ref c60, ref c61, ref c70, ref c71);
            Step(a + 2 * MR, b + 2 * NR, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31,
                ref c40, ref c41, ref c50, ref c51, ref c60, ref c61, ref c70, ref c71);
            Step(a + 3 * MR, b + 3 * NR, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31,
                ref c40, ref c41, ref c50, ref c51, ref c60, ref c61, ref c70, ref c71);
            a += 4 * MR;
            b += 4 * NR;
        }

        for (; p < kc; p++)
        {
            Step(a, b, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31,
                ref c40, ref c41, ref c50, ref c51, ref c60, ref c61, ref c70, ref c71);
            a += MR;
            b += NR;
        }

        Store(c, c00, c01, load, bias);
        Store(c + ldc, c10, c11, load, bias);
        Store(c + 2 * ldc, c20, c21, load, bias);
        Store(c + 3 * ldc, c30, c31, load, bias);
        Store(c + 4 * ldc, c40, c41, load, bias);
        Store(c + 5 * ldc, c50, c51, load, bias);
        Store(c + 6 * ldc, c60, c61, load, bias);
        Store(c + 7 * ldc, c70, c71, load, bias);
    }

    /// <summary>One k step: the 8x32 rank-1 update. Inlined, so the accumulators stay in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(float* a, float* b,
        ref Vector512<float> c00, ref Vector512<float> c01, ref Vector512<float> c10, ref Vector512<float> c11,
        ref Vector512<float> c20, ref Vector512<float> c21, ref Vector512<float> c30, ref Vector512<float> c31,
        ref Vector512<float> c40, ref Vector512<float> c41, ref Vector512<float> c50, ref Vector512<float> c51,
        ref Vector512<float> c60, ref Vector512<float> c61, ref Vector512<float> c70, ref Vector512<float> c71)
    {
        Vector512<float> b0 = Vector512.LoadAligned(b);
        Vector512<float> b1 = Vector512.LoadAligned(b + 16);
        Vector512<float> av = Vector512.Create(a[0]);
        c00 = Vector512.FusedMultiplyAdd(av, b0, c00);
        c01 = Vector512.FusedMultiplyAdd(av, b1, c01);
        av = Vector512.Create(a[1]);
        c10 = Vector512.FusedMultiplyAdd(av, b0, c10);
        c11 = Vector512.FusedMultiplyAdd(av, b1, c11);
        av = Vector512.Create(a[2]);
        c20 = Vector512.FusedMultiplyAdd(av, b0, c20);
        c21 = Vector512.FusedMultiplyAdd(av, b1, c21);
        av = Vector512.Create(a[3]);
        c30 = Vector512.FusedMultiplyAdd(av, b0, c30);
        c31 = Vector512.FusedMultiplyAdd(av, b1, c31);
        av = Vector512.Create(a[4]);
        c40 = Vector512.FusedMultiplyAdd(av, b0, c40);
        c41 = Vector512.FusedMultiplyAdd(av, b1, c41);
        av = Vector512.Create(a[5]);
        c50 = Vector512.FusedMultiplyAdd(av, b0, c50);
        c51 = Vector512.FusedMultiplyAdd(av, b1, c51);
        av = Vector512.Create(a[6]);
        c60 = Vector512.FusedMultiplyAdd(av, b0, c60);
        c61 = Vector512.FusedMultiplyAdd(av, b1, c61);
        av = Vector512.Create(a[7]);
        c70 = Vector512.FusedMultiplyAdd(av, b0, c70);
        c71 = Vector512.FusedMultiplyAdd(av, b1, c71);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector512<float> v0, Vector512<float> v1, bool load, float* bias)
    {
        if (load)
        {
            v0 = Vector512.Load(c) + v0;
            v1 = Vector512.Load(c + 16) + v1;
        }

        if (bias != null)
        {
            v0 += Vector512.Load(bias);
            v1 += Vector512.Load(bias + 16);
        }

        v0.Store(c);
        v1.Store(c + 16);
    }
}
