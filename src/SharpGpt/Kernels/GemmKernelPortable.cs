using System.Numerics;
using System.Runtime.CompilerServices;

namespace SharpGpt.Kernels;

/// <summary>
/// The portable micro-kernel: a 4 x (2 * Vector&lt;float&gt;.Count) tile of C in 8 Vector&lt;float&gt;
/// accumulators, using a separate multiply and add so it is fast (and exact to its own
/// rounding) on any hardware, FMA or not.
/// </summary>
internal static unsafe class GemmKernelPortable
{
    public const int MR = 4;

    public static int NR => 2 * Vector<float>.Count;

    /// <summary>C[4,NR] = (load ? C : 0) + A·B (+ bias[NR] when bias != null).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, float* c, int ldc, bool load, float* bias)
    {
        int w = Vector<float>.Count;
        int nr = 2 * w;
        Vector<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector<float> c20 = default, c21 = default, c30 = default, c31 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector<float> b0 = Vector.Load(b);
            Vector<float> b1 = Vector.Load(b + w);
            Vector<float> av = new(a[0]);
            c00 += av * b0;
            c01 += av * b1;
            av = new Vector<float>(a[1]);
            c10 += av * b0;
            c11 += av * b1;
            av = new Vector<float>(a[2]);
            c20 += av * b0;
            c21 += av * b1;
            av = new Vector<float>(a[3]);
            c30 += av * b0;
            c31 += av * b1;
            a += MR;
            b += nr;
        }

        Store(c, w, c00, c01, load, bias);
        Store(c + ldc, w, c10, c11, load, bias);
        Store(c + 2 * ldc, w, c20, c21, load, bias);
        Store(c + 3 * ldc, w, c30, c31, load, bias);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, int w, Vector<float> v0, Vector<float> v1, bool load, float* bias)
    {
        if (load)
        {
            v0 = Vector.Load(c) + v0;
            v1 = Vector.Load(c + w) + v1;
        }

        if (bias != null)
        {
            v0 += Vector.Load(bias);
            v1 += Vector.Load(bias + w);
        }

        v0.Store(c);
        v1.Store(c + w);
    }
}
