using System.Numerics;

namespace SharpGpt.Kernels;

/// <summary>Residual connection: out = a + b; its backward adds dout into both inputs' gradients.</summary>
internal static unsafe class Residual
{
    private const int Block = 8192;

    private struct Args
    {
        public float* Out, A, B, DA, DB, DOut;
        public long N;
    }

    // out (N) <- a (N), b (N)
    public static void Forward(ParallelRunner runner, float* output, float* a, float* b, long n)
    {
        var args = new Args { Out = output, A = a, B = b, N = n };
        runner.For((int)((n + Block - 1) / Block), &ForwardBlock, &args);
    }

    /// <summary>out[i] = a[i] + b[i] for i &lt; n, on the calling thread (the fused residual + LayerNorm adds a row with it).</summary>
    internal static void AddSpan(float* output, float* a, float* b, int n)
    {
        int i = 0;
        for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
        {
            Vector.Store(Vector.Load(a + i) + Vector.Load(b + i), output + i);
        }

        for (; i < n; i++)
        {
            output[i] = a[i] + b[i];
        }
    }

    private static void ForwardBlock(int part, void* p)
    {
        var a = (Args*)p;
        long start = (long)part * Block, end = Math.Min(a->N, start + Block);
        AddSpan(a->Out + start, a->A + start, a->B + start, (int)(end - start));
    }

    // da (N) +=, db (N) += <- dout (N)
    public static void Backward(ParallelRunner runner, float* da, float* db, float* dout, long n)
    {
        var args = new Args { DA = da, DB = db, DOut = dout, N = n };
        runner.For((int)((n + Block - 1) / Block), &BackwardBlock, &args);
    }

    private static void BackwardBlock(int part, void* p)
    {
        var a = (Args*)p;
        long start = (long)part * Block, end = Math.Min(a->N, start + Block);
        long i = start;
        for (; i <= end - Vector<float>.Count; i += Vector<float>.Count)
        {
            var d = Vector.Load(a->DOut + i);
            Vector.Store(Vector.Load(a->DA + i) + d, a->DA + i);
            Vector.Store(Vector.Load(a->DB + i) + d, a->DB + i);
        }

        for (; i < end; i++)
        {
            a->DA[i] += a->DOut[i];
            a->DB[i] += a->DOut[i];
        }
    }
}
