using System.Numerics;

namespace SharpGpt.Kernels;

/// <summary>A linear layer, out = inp · W^T + bias, with W stored [OC, C] as in PyTorch; the products go to <see cref="Gemm"/>.
/// inp and W may be bf16 (mixed precision); everything else is fp32.</summary>
internal static unsafe class Matmul
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
            args.Chunk = Math.Max(64, ((oc / (runner.Threads * 4)) + 63) & ~63); // whole blocks of eight vectors (AVX2)
            runner.For((oc + args.Chunk - 1) / args.Chunk, &BiasBackwardSlice, &args);
        }
    }

    /// <summary>dbias[j] += sum over rows of dout[r, j] for this part's columns: blocks of eight vectors
    /// summed down all the rows in registers and added to dbias once, rather than a load, add and
    /// store of dbias for every row.</summary>
    private static void BiasBackwardSlice(int part, void* p)
    {
        var a = (Args*)p;
        int start = part * a->Chunk, end = Math.Min(a->OC, start + a->Chunk), w = Vector<float>.Count, oc = a->OC;
        int i = start;
        for (; i <= end - (8 * w); i += 8 * w)
        {
            Vector<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
            float* d = a->DOut + i;
            for (int r = 0; r < a->Rows; r++, d += oc)
            {
                s0 += Vector.Load(d);
                s1 += Vector.Load(d + w);
                s2 += Vector.Load(d + (2 * w));
                s3 += Vector.Load(d + (3 * w));
                s4 += Vector.Load(d + (4 * w));
                s5 += Vector.Load(d + (5 * w));
                s6 += Vector.Load(d + (6 * w));
                s7 += Vector.Load(d + (7 * w));
            }

            float* db = a->DBias + i;
            (Vector.Load(db) + s0).Store(db);
            (Vector.Load(db + w) + s1).Store(db + w);
            (Vector.Load(db + (2 * w)) + s2).Store(db + (2 * w));
            (Vector.Load(db + (3 * w)) + s3).Store(db + (3 * w));
            (Vector.Load(db + (4 * w)) + s4).Store(db + (4 * w));
            (Vector.Load(db + (5 * w)) + s5).Store(db + (5 * w));
            (Vector.Load(db + (6 * w)) + s6).Store(db + (6 * w));
            (Vector.Load(db + (7 * w)) + s7).Store(db + (7 * w));
        }

        for (; i <= end - w; i += w)
        {
            var sum = Vector<float>.Zero;
            float* d = a->DOut + i;
            for (int r = 0; r < a->Rows; r++, d += oc)
            {
                sum += Vector.Load(d);
            }

            (Vector.Load(a->DBias + i) + sum).Store(a->DBias + i);
        }

        for (; i < end; i++)
        {
            float sum = 0;
            float* d = a->DOut + i;
            for (int r = 0; r < a->Rows; r++, d += oc)
            {
                sum += *d;
            }

            a->DBias[i] += sum;
        }
    }
}
