using System.Numerics;

namespace SharpGpt.Kernels;

/// <summary>GELU with the tanh approximation GPT-2 uses: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
/// The forward writes fp32 or, for a bf16 matmul to read, bf16.</summary>
public static unsafe class Gelu
{
    private const float Sqrt2OverPi = 0.7978845608028654f;
    private const float Cubic = 0.044715f;
    private const int Block = 4096;

    private struct Args
    {
        public float* Out, Inp, DInp, DOut;
        public ushort* OutBf16;
        public long N;
    }

    // out (N) fp32 or bf16 <- inp (N)
    public static void Forward(ParallelRunner runner, TypedPointer output, float* inp, long n)
    {
        var args = new Args { Inp = inp, N = n };
        if (output.IsBf16)
        {
            args.OutBf16 = output.Bf16;
        }
        else
        {
            args.Out = output.Fp32;
        }

        runner.For((int)((n + Block - 1) / Block), &ForwardBlock, &args);
    }

    private static void ForwardBlock(int part, void* p)
    {
        var a = (Args*)p;
        long start = (long)part * Block, end = Math.Min(a->N, start + Block);
        var k = new Vector<float>(Sqrt2OverPi);
        var cubic = new Vector<float>(Cubic);
        var half = new Vector<float>(0.5f);
        bool bf16 = a->OutBf16 != null; // exactly one of Out and OutBf16 is set
        long i = start;
        for (; i <= end - Vector<float>.Count; i += Vector<float>.Count)
        {
            var x = Vector.Load(a->Inp + i);
            var th = VectorMath.Tanh(k * (x + (cubic * x * x * x)));
            var y = half * x * (Vector<float>.One + th);
            if (bf16)
            {
                BFloat16.Store(y, a->OutBf16 + i);
            }
            else
            {
                Vector.Store(y, a->Out + i);
            }
        }

        for (; i < end; i++)
        {
            float x = a->Inp[i];
            float y = 0.5f * x * (1f + MathF.Tanh(Sqrt2OverPi * (x + (Cubic * x * x * x))));
            if (bf16)
            {
                a->OutBf16[i] = BFloat16.FromFloat(y);
            }
            else
            {
                a->Out[i] = y;
            }
        }
    }

    // dinp (N) = <- inp (N), dout (N); overwrites, so no zeroing is needed before it
    public static void Backward(ParallelRunner runner, float* dinp, float* inp, float* dout, long n)
    {
        var args = new Args { DInp = dinp, Inp = inp, DOut = dout, N = n };
        runner.For((int)((n + Block - 1) / Block), &BackwardBlock, &args);
    }

    private static void BackwardBlock(int part, void* p)
    {
        var a = (Args*)p;
        long start = (long)part * Block, end = Math.Min(a->N, start + Block);
        var k = new Vector<float>(Sqrt2OverPi);
        var cubic = new Vector<float>(Cubic);
        var cubic3 = new Vector<float>(3f * Cubic);
        var half = new Vector<float>(0.5f);
        long i = start;
        for (; i <= end - Vector<float>.Count; i += Vector<float>.Count)
        {
            var x = Vector.Load(a->Inp + i);
            var th = VectorMath.Tanh(k * (x + (cubic * x * x * x)));
            var sech2 = Vector<float>.One - (th * th);
            var grad = (half * (Vector<float>.One + th)) + (half * x * sech2 * k * (Vector<float>.One + (cubic3 * x * x)));
            Vector.Store(grad * Vector.Load(a->DOut + i), a->DInp + i);
        }

        for (; i < end; i++)
        {
            float x = a->Inp[i];
            float th = MathF.Tanh(Sqrt2OverPi * (x + (Cubic * x * x * x)));
            float grad = (0.5f * (1f + th)) + (0.5f * x * (1f - (th * th)) * Sqrt2OverPi * (1f + (3f * Cubic * x * x)));
            a->DInp[i] = grad * a->DOut[i];
        }
    }
}
