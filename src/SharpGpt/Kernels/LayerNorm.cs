using System.Numerics;

namespace SharpGpt.Kernels;

/// <summary>LayerNorm over the channel dimension, eps 1e-5, with saved mean and 1/std for the backward.
/// The forward writes fp32 or, for a bf16 matmul to read, bf16 (the statistics stay fp32).</summary>
internal static unsafe class LayerNorm
{
    public const float Epsilon = 1e-5f;

    private struct Args
    {
        public float* Out, Mean, Rstd, Inp, Weight, Bias, DInp, DWeight, DBias, DOut, ResA, ResB;
        public ushort* OutBf16;
        public int Rows, C, RowsPerPart, Chunk;
    }

    // out (N,C) fp32 or bf16, mean (N), rstd (N) <- inp (N,C), weight (C), bias (C)
    public static void Forward(ParallelRunner runner, TypedPointer output, float* mean, float* rstd, float* inp, float* weight, float* bias, int rows, int c)
        => RunForward(runner, new Args { Mean = mean, Rstd = rstd, Inp = inp, Weight = weight, Bias = bias, Rows = rows, C = c }, output);

    // residual (N,C), out (N,C) fp32 or bf16, mean (N), rstd (N) <- a (N,C), b (N,C), weight (C), bias (C): residual = a + b, out = LayerNorm(residual), in one pass
    public static void ForwardResidual(ParallelRunner runner, float* residual, TypedPointer output, float* mean, float* rstd, float* a, float* b, float* weight, float* bias, int rows, int c)
        => RunForward(runner, new Args { Mean = mean, Rstd = rstd, Inp = residual, ResA = a, ResB = b, Weight = weight, Bias = bias, Rows = rows, C = c }, output);

    private static void RunForward(ParallelRunner runner, Args args, TypedPointer output)
    {
        if (output.IsBf16)
        {
            args.OutBf16 = output.Bf16;
        }
        else
        {
            args.Out = output.Fp32;
        }

        args.RowsPerPart = Math.Max(1, args.Rows / (runner.Threads * 8));
        runner.For((args.Rows + args.RowsPerPart - 1) / args.RowsPerPart, &ForwardRows, &args);
    }

    private static void ForwardRows(int part, void* p)
    {
        var a = (Args*)p;
        int c = a->C;
        int end = Math.Min(a->Rows, (part + 1) * a->RowsPerPart);
        bool bf16 = a->OutBf16 != null; // exactly one of Out and OutBf16 is set; only its rows are written
        for (int r = part * a->RowsPerPart; r < end; r++)
        {
            float* x = a->Inp + (long)r * c;
            float* o = a->Out + (long)r * c;
            ushort* o16 = a->OutBf16 + (long)r * c;
            if (a->ResA != null)
            {
                Residual.AddSpan(x, a->ResA + (long)r * c, a->ResB + (long)r * c, c);
            }

            float m = Sum(x, c) / c;
            float v = SumSquaredDeviation(x, m, c) / c;
            float s = 1f / MathF.Sqrt(v + Epsilon);
            var vm = new Vector<float>(m);
            var vs = new Vector<float>(s);
            int i = 0;
            for (; i <= c - Vector<float>.Count; i += Vector<float>.Count)
            {
                var n = (Vector.Load(x + i) - vm) * vs;
                var y = Vector.FusedMultiplyAdd(n, Vector.Load(a->Weight + i), Vector.Load(a->Bias + i));
                if (bf16)
                {
                    BFloat16.Store(y, o16 + i);
                }
                else
                {
                    Vector.Store(y, o + i);
                }
            }

            for (; i < c; i++)
            {
                float y = ((x[i] - m) * s * a->Weight[i]) + a->Bias[i];
                if (bf16)
                {
                    o16[i] = BFloat16.FromFloat(y);
                }
                else
                {
                    o[i] = y;
                }
            }

            a->Mean[r] = m;
            a->Rstd[r] = s;
        }
    }

    // dinp (N,C) +=, dweight (C) +=, dbias (C) += <- dout (N,C), inp (N,C), weight (C), mean, rstd
    public static void Backward(ParallelRunner runner, float* dinp, float* dweight, float* dbias, float* dout, float* inp, float* weight, float* mean, float* rstd, int rows, int c)
    {
        var args = new Args { DInp = dinp, DWeight = dweight, DBias = dbias, DOut = dout, Inp = inp, Weight = weight, Mean = mean, Rstd = rstd, Rows = rows, C = c };
        args.RowsPerPart = Math.Max(1, rows / (runner.Threads * 8));
        runner.For((rows + args.RowsPerPart - 1) / args.RowsPerPart, &BackwardRows, &args);
        args.Chunk = Math.Max(Vector<float>.Count, (c / (runner.Threads * 4) + 7) & ~7);
        runner.For((c + args.Chunk - 1) / args.Chunk, &BackwardParams, &args);
    }

    private static void BackwardRows(int part, void* p)
    {
        var a = (Args*)p;
        int c = a->C;
        int end = Math.Min(a->Rows, (part + 1) * a->RowsPerPart);
        for (int r = part * a->RowsPerPart; r < end; r++)
        {
            float* x = a->Inp + (long)r * c;
            float* d = a->DOut + (long)r * c;
            float* di = a->DInp + (long)r * c;
            float m = a->Mean[r], s = a->Rstd[r];

            // dnorm = w * dout; dinp = (dnorm - mean(dnorm) - norm * mean(dnorm * norm)) * rstd
            var vm = new Vector<float>(m);
            var vs = new Vector<float>(s);
            // Two accumulators for each sum, as in Sum: four short chains instead of two long ones.
            int w = Vector<float>.Count;
            Vector<float> accD = default, accDN = default, accD1 = default, accDN1 = default;
            int i = 0;
            for (; i <= c - (2 * w); i += 2 * w)
            {
                var dn = Vector.Load(a->Weight + i) * Vector.Load(d + i);
                var dn1 = Vector.Load(a->Weight + i + w) * Vector.Load(d + i + w);
                accD += dn;
                accD1 += dn1;
                accDN += dn * ((Vector.Load(x + i) - vm) * vs);
                accDN1 += dn1 * ((Vector.Load(x + i + w) - vm) * vs);
            }

            for (; i <= c - w; i += w)
            {
                var dn = Vector.Load(a->Weight + i) * Vector.Load(d + i);
                accD += dn;
                accDN += dn * ((Vector.Load(x + i) - vm) * vs);
            }

            float sumD = Vector.Sum(accD + accD1), sumDN = Vector.Sum(accDN + accDN1);
            for (int j = i; j < c; j++)
            {
                float dn = a->Weight[j] * d[j];
                sumD += dn;
                sumDN += dn * (x[j] - m) * s;
            }

            float meanD = sumD / c, meanDN = sumDN / c;
            var vMeanD = new Vector<float>(meanD);
            var vMeanDN = new Vector<float>(meanDN);
            i = 0;
            for (; i <= c - Vector<float>.Count; i += Vector<float>.Count)
            {
                var n = (Vector.Load(x + i) - vm) * vs;
                var g = ((Vector.Load(a->Weight + i) * Vector.Load(d + i)) - vMeanD - (n * vMeanDN)) * vs;
                Vector.Store(Vector.Load(di + i) + g, di + i);
            }

            for (; i < c; i++)
            {
                float n = (x[i] - m) * s;
                di[i] += ((a->Weight[i] * d[i]) - meanD - (n * meanDN)) * s;
            }
        }
    }

    private static void BackwardParams(int part, void* p)
    {
        var a = (Args*)p;
        int c = a->C;
        int start = part * a->Chunk, end = Math.Min(c, start + a->Chunk);
        for (int r = 0; r < a->Rows; r++)
        {
            float* x = a->Inp + (long)r * c;
            float* d = a->DOut + (long)r * c;
            float m = a->Mean[r], s = a->Rstd[r];
            var vm = new Vector<float>(m);
            var vs = new Vector<float>(s);
            int i = start;
            for (; i <= end - Vector<float>.Count; i += Vector<float>.Count)
            {
                var dv = Vector.Load(d + i);
                Vector.Store(Vector.Load(a->DBias + i) + dv, a->DBias + i);
                Vector.Store(Vector.Load(a->DWeight + i) + ((Vector.Load(x + i) - vm) * vs * dv), a->DWeight + i);
            }

            for (; i < end; i++)
            {
                a->DBias[i] += d[i];
                a->DWeight[i] += (x[i] - m) * s * d[i];
            }
        }
    }

    // Four accumulators, so the adds of a row run as four short dependency chains instead of one long
    // one: a row of 128 floats is otherwise bound by the add latency, not by its 16 vector loads.
    private static float Sum(float* x, int n)
    {
        int w = Vector<float>.Count, i = 0;
        Vector<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (; i <= n - (4 * w); i += 4 * w)
        {
            a0 += Vector.Load(x + i);
            a1 += Vector.Load(x + i + w);
            a2 += Vector.Load(x + i + (2 * w));
            a3 += Vector.Load(x + i + (3 * w));
        }

        for (; i <= n - w; i += w)
        {
            a0 += Vector.Load(x + i);
        }

        float s = Vector.Sum((a0 + a1) + (a2 + a3));
        for (; i < n; i++)
        {
            s += x[i];
        }

        return s;
    }

    private static float SumSquaredDeviation(float* x, float m, int n)
    {
        int w = Vector<float>.Count, i = 0;
        var vm = new Vector<float>(m);
        Vector<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (; i <= n - (4 * w); i += 4 * w)
        {
            var d0 = Vector.Load(x + i) - vm;
            var d1 = Vector.Load(x + i + w) - vm;
            var d2 = Vector.Load(x + i + (2 * w)) - vm;
            var d3 = Vector.Load(x + i + (3 * w)) - vm;
            a0 += d0 * d0;
            a1 += d1 * d1;
            a2 += d2 * d2;
            a3 += d3 * d3;
        }

        for (; i <= n - w; i += w)
        {
            var d = Vector.Load(x + i) - vm;
            a0 += d * d;
        }

        float s = Vector.Sum((a0 + a1) + (a2 + a3));
        for (; i < n; i++)
        {
            s += (x[i] - m) * (x[i] - m);
        }

        return s;
    }
}
