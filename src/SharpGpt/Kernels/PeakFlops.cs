using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpGpt.Kernels;

/// <summary>
/// This machine's fp32 FMA peak, the denominator of MFU: an FMA loop in the vector width of the GEMM path
/// this CPU runs (512 bits for AVX-512, 256 for AVX2, Vector&lt;float&gt; for the portable path), on every
/// thread of a runner at once. Each thread keeps its best of many short trials, so a trial that another
/// process interrupted does not lower the peak and a model's MFU stays below 100%. The threads start each
/// trial together, so threads that share a core's FMA units (SMT siblings) measure their share of it.
/// </summary>
internal static unsafe class PeakFlops
{
    private const int Accumulators = 12;
    private const long IterationsPerTrial = 1 << 16;

    /// <summary>The GEMM's instruction set on this CPU, as bench reports it: "avx512", "avx2" or "portable".</summary>
    public static string InstructionSet => Name(Gemm.DefaultPath);

    /// <returns>FLOP per second over all of the runner's threads (an FMA counts as two).</returns>
    public static double Measure(ParallelRunner runner, double seconds = 0.25) => Measure(runner, Gemm.DefaultPath, seconds);

    internal static string Name(GemmPath path) => path switch
    {
        GemmPath.Avx512 => "avx512",
        GemmPath.Avx2 => "avx2",
        _ => "portable",
    };

    /// <summary>The peak in the vector width of <paramref name="path"/> (where the CPU lacks it, it is emulated and slow).</summary>
    internal static double Measure(ParallelRunner runner, GemmPath path, double seconds)
    {
        var best = new double[runner.Threads];
        fixed (double* bestRates = best)
        {
            var args = path switch
            {
                GemmPath.Avx512 => new Args { Trial = &Trial<Avx512Lanes, Vector512<float>>, Lanes = Vector512<float>.Count },
                GemmPath.Avx2 => new Args { Trial = &Trial<Avx2Lanes, Vector256<float>>, Lanes = Vector256<float>.Count },
                _ => new Args { Trial = &Trial<PortableLanes, Vector<float>>, Lanes = Vector<float>.Count },
            };
            args.Best = bestRates;
            args.Threads = runner.Threads;
            runner.For(runner.Threads, &Run, &args); // warm up the JIT and the clocks
            best.AsSpan().Clear();
            var clock = Stopwatch.StartNew();
            do
            {
                args.Started = 0;
                runner.For(runner.Threads, &Run, &args);
            }
            while (clock.Elapsed.TotalSeconds < seconds);
        }

        return best.Sum();
    }

    private struct Args
    {
        public double* Best;
        public delegate*<float> Trial;
        public int Lanes;
        public int Threads;
        public int Started;
        public float Sink;
    }

    /// <summary>One part per thread: times one trial and keeps the part's best rate.</summary>
    private static void Run(int part, void* p)
    {
        var a = (Args*)p;

        // Wait until every part has started: a thread inside a part cannot claim another, so each of the
        // runner's threads runs exactly one, and they all run at once.
        Interlocked.Increment(ref a->Started);
        var wait = default(SpinWait);
        while (Volatile.Read(ref a->Started) < a->Threads)
        {
            wait.SpinOnce(sleep1Threshold: -1);
        }

        long start = Stopwatch.GetTimestamp();
        float sink = a->Trial();
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        double flops = (double)IterationsPerTrial * Accumulators * a->Lanes * 2;
        a->Best[part] = Math.Max(a->Best[part], flops / seconds);
        if (part == 0)
        {
            a->Sink = sink;
        }
    }

    /// <summary>Twelve independent FMA chains (enough to cover latency x pipes on Zen 3 to 5) in one vector width.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Trial<TLanes, TVector>()
        where TLanes : ILanes<TVector>
        where TVector : struct
    {
        var m = TLanes.Splat(0.999999f);
        var c = TLanes.Splat(1e-7f);
        TVector x0 = TLanes.Splat(1f), x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0;
        TVector x6 = x0, x7 = x0, x8 = x0, x9 = x0, x10 = x0, x11 = x0;
        for (long i = 0; i < IterationsPerTrial; i++)
        {
            x0 = TLanes.Fma(x0, m, c);
            x1 = TLanes.Fma(x1, m, c);
            x2 = TLanes.Fma(x2, m, c);
            x3 = TLanes.Fma(x3, m, c);
            x4 = TLanes.Fma(x4, m, c);
            x5 = TLanes.Fma(x5, m, c);
            x6 = TLanes.Fma(x6, m, c);
            x7 = TLanes.Fma(x7, m, c);
            x8 = TLanes.Fma(x8, m, c);
            x9 = TLanes.Fma(x9, m, c);
            x10 = TLanes.Fma(x10, m, c);
            x11 = TLanes.Fma(x11, m, c);
        }

        return TLanes.First(x0) + TLanes.First(x1) + TLanes.First(x2) + TLanes.First(x3) + TLanes.First(x4) + TLanes.First(x5)
            + TLanes.First(x6) + TLanes.First(x7) + TLanes.First(x8) + TLanes.First(x9) + TLanes.First(x10) + TLanes.First(x11);
    }

    /// <summary>The few vector operations the FMA loop needs, for one vector width.</summary>
    private interface ILanes<TVector>
        where TVector : struct
    {
        static abstract TVector Splat(float value);

        static abstract TVector Fma(TVector a, TVector b, TVector c);

        static abstract float First(TVector v);
    }

    private readonly struct Avx512Lanes : ILanes<Vector512<float>>
    {
        public static Vector512<float> Splat(float value) => Vector512.Create(value);

        public static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);

        public static float First(Vector512<float> v) => v.ToScalar();
    }

    private readonly struct Avx2Lanes : ILanes<Vector256<float>>
    {
        public static Vector256<float> Splat(float value) => Vector256.Create(value);

        public static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

        public static float First(Vector256<float> v) => v.ToScalar();
    }

    private readonly struct PortableLanes : ILanes<Vector<float>>
    {
        public static Vector<float> Splat(float value) => new(value);

        public static Vector<float> Fma(Vector<float> a, Vector<float> b, Vector<float> c) => Vector.FusedMultiplyAdd(a, b, c);

        public static float First(Vector<float> v) => v[0];
    }
}
