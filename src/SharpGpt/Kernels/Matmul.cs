using System.Numerics;

namespace SharpGpt.Kernels;

/// <summary>A linear layer, out = inp · W^T + bias, with W stored [OC, C] as in PyTorch; the products go to <see cref="Gemm"/>.
/// inp and W may be bf16 (mixed precision); everything else is fp32.</summary>
public static unsafe class Matmul
{
    private struct Args
    {
        public float* DBias, DOut;
        public int Rows, OC, Chunk;
    }

    // out (N,OC) <- inp (N,C), weight (OC,C), bias (OC) or null
    public static void Forward(ParallelRunner runner, float* output, TypedPointer inp, TypedPointer weight, float* bias, int rows, int c, int oc)
        => Gemm.Sgemm(runner, false, true, rows, oc, c, inp, c, weight, c, output, oc, accumulate: false, bias);

    // dinp (N,C) = (overwritten), dweight (OC,C) +=, dbias (OC) += <- dout (N,OC), inp (N,C), weight (OC,C)
    public static void Backward(ParallelRunner runner, float* dinp, float* dweight, float* dbias, float* dout, TypedPointer inp, TypedPointer weight, int rows, int c, int oc)
    {
        Gemm.Sgemm(runner, false, false, rows, c, oc, dout, oc, weight, c, dinp, c, accumulate: false);
        Gemm.Sgemm(runner, true, false, oc, c, rows, dout, oc, inp, c, dweight, c, accumulate: true);
        if (dbias != null)
        {
            var args = new Args { DBias = dbias, DOut = dout, Rows = rows, OC = oc };
            args.Chunk = Math.Max(64, (oc / (runner.Threads * 4) + 7) & ~7);
            runner.For((oc + args.Chunk - 1) / args.Chunk, &BiasBackwardSlice, &args);
        }
    }

    private static void BiasBackwardSlice(int part, void* p)
    {
        var a = (Args*)p;
        int start = part * a->Chunk, end = Math.Min(a->OC, start + a->Chunk);
        for (int r = 0; r < a->Rows; r++)
        {
            float* d = a->DOut + ((long)r * a->OC);
            int i = start;
            for (; i <= end - Vector<float>.Count; i += Vector<float>.Count)
            {
                Vector.Store(Vector.Load(a->DBias + i) + Vector.Load(d + i), a->DBias + i);
            }

            for (; i < end; i++)
            {
                a->DBias[i] += d[i];
            }
        }
    }
}
