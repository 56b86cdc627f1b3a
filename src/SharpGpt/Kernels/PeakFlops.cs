using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace SharpGpt.Kernels;

/// <summary>Measures this machine's fp32 FMA throughput on all runner threads, the denominator of MFU.</summary>
public static unsafe class PeakFlops
{
    private const int Accumulators = 12;

    private struct Args
    {
        public long Iterations;
        public float Sink;
    }

    /// <returns>FLOP per second (an FMA counts as two).</returns>
    public static double Measure(ParallelRunner runner, double seconds = 0.25)
    {
        var args = new Args { Iterations = 1 << 16 };
        runner.For(runner.Threads, &Spin, &args); // warm up the JIT and the clocks
        var sw = Stopwatch.StartNew();
        long rounds = 0;
        while (sw.Elapsed.TotalSeconds < seconds)
        {
            runner.For(runner.Threads, &Spin, &args);
            rounds++;
        }

        double flops = (double)rounds * runner.Threads * args.Iterations * Accumulators * Vector<float>.Count * 2;
        return flops / sw.Elapsed.TotalSeconds;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Spin(int part, void* p)
    {
        var a = (Args*)p;
        var m = new Vector<float>(0.999999f);
        var c = new Vector<float>(1e-7f);
        Vector<float> x0 = Vector<float>.One, x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0;
        Vector<float> x6 = x0, x7 = x0, x8 = x0, x9 = x0, x10 = x0, x11 = x0;
        for (long i = 0; i < a->Iterations; i++)
        {
            x0 = Vector.FusedMultiplyAdd(x0, m, c);
            x1 = Vector.FusedMultiplyAdd(x1, m, c);
            x2 = Vector.FusedMultiplyAdd(x2, m, c);
            x3 = Vector.FusedMultiplyAdd(x3, m, c);
            x4 = Vector.FusedMultiplyAdd(x4, m, c);
            x5 = Vector.FusedMultiplyAdd(x5, m, c);
            x6 = Vector.FusedMultiplyAdd(x6, m, c);
            x7 = Vector.FusedMultiplyAdd(x7, m, c);
            x8 = Vector.FusedMultiplyAdd(x8, m, c);
            x9 = Vector.FusedMultiplyAdd(x9, m, c);
            x10 = Vector.FusedMultiplyAdd(x10, m, c);
            x11 = Vector.FusedMultiplyAdd(x11, m, c);
        }

        float sink = Vector.Sum(x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11);
        if (part == 0)
        {
            a->Sink = sink;
        }
    }
}
