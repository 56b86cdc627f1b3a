using System.Numerics;
using System.Runtime.CompilerServices;

namespace SharpGpt.Kernels;

/// <summary>GELU with the tanh approximation GPT-2 uses: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
/// Every element goes through the same vector formula (tails through a padded vector), so the
/// standalone kernels and the GEMM epilogues that fuse GELU give bit-identical results. The forward
/// writes fp32 or, for a bf16 matmul to read, bf16.</summary>
public static unsafe class Gelu
{
    private const float Sqrt2OverPi = 0.7978845608028654f;
    private const float Cubic = 0.044715f;
    private const int Block = 4096;

    private struct Args
    {
        public TypedPointer Out;
        public float* Inp, DInp, DOut;
        public long N;
    }

    // out (N) fp32 or bf16 <- inp (N)
    public static void Forward(ParallelRunner runner, TypedPointer output, float* inp, long n)
    {
        var args = new Args { Out = output, Inp = inp, N = n };
        runner.For((int)((n + Block - 1) / Block), &ForwardBlock, &args);
    }

    // dinp (N) = <- inp (N), dout (N); overwrites, so no zeroing is needed before it; dinp may be dout
    public static void Backward(ParallelRunner runner, float* dinp, float* inp, float* dout, long n)
    {
        var args = new Args { DInp = dinp, Inp = inp, DOut = dout, N = n };
        runner.For((int)((n + Block - 1) / Block), &BackwardBlock, &args);
    }

    /// <summary>out[i] = GELU(inp[i]) for i &lt; n, out fp32 or bf16 (rounded to nearest even).</summary>
    internal static void ForwardSpan(TypedPointer output, float* inp, int n)
    {
        bool bf16 = output.IsBf16;
        float* o32 = bf16 ? null : output.Fp32;
        ushort* o16 = bf16 ? output.Bf16 : null;
        int w = Vector<float>.Count, i = 0;
        for (; i <= n - w; i += w)
        {
            var y = Value(Vector.Load(inp + i));
            if (bf16)
            {
                BFloat16.Store(y, o16 + i);
            }
            else
            {
                y.Store(o32 + i);
            }
        }

        if (i < n)
        {
            float* x = stackalloc float[w];
            new Span<float>(inp + i, n - i).CopyTo(new Span<float>(x, w));
            Value(Vector.Load(x)).Store(x);
            if (bf16)
            {
                BFloat16.FromFloat(o16 + i, x, n - i);
            }
            else
            {
                new Span<float>(x, n - i).CopyTo(new Span<float>(o32 + i, n - i));
            }
        }
    }

    /// <summary>dinp[i] = GELU'(inp[i]) dout[i] for i &lt; n; dinp may be dout.</summary>
    internal static void BackwardSpan(float* dinp, float* inp, float* dout, int n)
    {
        int w = Vector<float>.Count, i = 0;
        for (; i <= n - w; i += w)
        {
            (Derivative(Vector.Load(inp + i)) * Vector.Load(dout + i)).Store(dinp + i);
        }

        if (i < n)
        {
            float* x = stackalloc float[2 * w];
            new Span<float>(x, 2 * w).Clear();
            new Span<float>(inp + i, n - i).CopyTo(new Span<float>(x, w));
            new Span<float>(dout + i, n - i).CopyTo(new Span<float>(x + w, w));
            (Derivative(Vector.Load(x)) * Vector.Load(x + w)).Store(x);
            new Span<float>(x, n - i).CopyTo(new Span<float>(dinp + i, n - i));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Value(Vector<float> x)
    {
        var th = VectorMath.Tanh(new Vector<float>(Sqrt2OverPi) * (x + (new Vector<float>(Cubic) * x * x * x)));
        return new Vector<float>(0.5f) * x * (Vector<float>.One + th);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Derivative(Vector<float> x)
    {
        var k = new Vector<float>(Sqrt2OverPi);
        var half = new Vector<float>(0.5f);
        var th = VectorMath.Tanh(k * (x + (new Vector<float>(Cubic) * x * x * x)));
        var sech2 = Vector<float>.One - (th * th);
        return (half * (Vector<float>.One + th)) + (half * x * sech2 * k * (Vector<float>.One + (new Vector<float>(3f * Cubic) * x * x)));
    }

    private static void ForwardBlock(int part, void* p)
    {
        var a = (Args*)p;
        long start = (long)part * Block, end = Math.Min(a->N, start + Block);
        ForwardSpan(a->Out + start, a->Inp + start, (int)(end - start));
    }

    private static void BackwardBlock(int part, void* p)
    {
        var a = (Args*)p;
        long start = (long)part * Block, end = Math.Min(a->N, start + Block);
        BackwardSpan(a->DInp + start, a->Inp + start, a->DOut + start, (int)(end - start));
    }
}
