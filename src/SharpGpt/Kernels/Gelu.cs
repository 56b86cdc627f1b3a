using System.Numerics;

namespace SharpGpt.Kernels;

/// <summary>GELU with the tanh approximation GPT-2 uses: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).</summary>
public static unsafe class Gelu
{
    private const float Sqrt2OverPi = 0.7978845608028654f;
    private const float Cubic = 0.044715f;
    private const int Block = 4096;

    private struct Args
    {
        public float* Out, Inp, DInp, DOut;
        public long N;
    }

    // out (N) <- inp (N)
    public static void Forward(ParallelRunner runner, float* output, float* inp, long n)
    {
        var args = new Args { Out = output, Inp = inp, N = n };
        runner.For((int)((n + Block - 1) / Block), &ForwardBlock, &args);
    }

    private static void ForwardBlock(int part, void* p)
    {
        var a = (Args*)p;
        long start = (long)part * Block, end = Math.Min(a->N, start + Block);
        var k = new Vector<float>(Sqrt2OverPi);
        var cubic = new Vector<float>(Cubic);
        var half = new Vector<float>(0.5f);
        long i = start;
        for (; i <= end - Vector<float>.Count; i += Vector<float>.Count)
        {
            var x = Vector.Load(a->Inp + i);
            var th = VectorMath.Tanh(k * (x + (cubic * x * x * x)));
            Vector.Store(half * x * (Vector<float>.One + th), a->Out + i);
        }

        for (; i < end; i++)
        {
            float x = a->Inp[i];
            a->Out[i] = 0.5f * x * (1f + MathF.Tanh(Sqrt2OverPi * (x + (Cubic * x * x * x))));
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
