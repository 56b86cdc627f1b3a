using System.Diagnostics;
using SharpGpt.Kernels;

namespace SharpGpt.Tests.Kernels;

/// <summary>MFU's denominator: the FMA peak of the instruction set the GEMM runs, which no GEMM can beat.</summary>
public sealed unsafe class PeakFlopsTests
{
    [Fact]
    public void TheGemmNeverRunsFasterThanThePeakOfItsOwnInstructionSet()
    {
        const int n = 256;
        using var runner = new ParallelRunner(1);
        using var a = Filled(n * n, 1);
        using var b = Filled(n * n, 2);
        using var c = new NativeBuffer(n * n);
        double best = 0;
        for (int i = 0; i < 60; i++)
        {
            long start = Stopwatch.GetTimestamp();
            Gemm.Sgemm(runner, false, false, n, n, n, a.Pointer, n, b.Pointer, n, c.Pointer, n, false);
            best = Math.Max(best, 2.0 * n * n * n / Stopwatch.GetElapsedTime(start).TotalSeconds);
        }

        double peak = PeakFlops.Measure(runner, 0.2);
        Assert.True(best <= peak, $"{PeakFlops.InstructionSet} GEMM at {best / 1e9:F1} GFLOP/s beats the measured peak of {peak / 1e9:F1}");
        // Nor is the peak some wider unit's: the GEMM reaches a good part of it.
        Assert.True(best >= 0.25 * peak, $"{PeakFlops.InstructionSet} GEMM at {best / 1e9:F1} GFLOP/s, peak {peak / 1e9:F1}");
    }

    [Fact]
    public void ThePeakIsMeasuredInTheVectorWidthOfEachPath()
    {
        using var runner = new ParallelRunner(1);
        double avx512 = PeakFlops.Measure(runner, GemmPath.Avx512, 0.1);
        double portable = PeakFlops.Measure(runner, GemmPath.Portable, 0.1);
        Assert.True(avx512 > 0 && portable > 0);
        Assert.Equal(PeakFlops.Name(Gemm.DefaultPath), PeakFlops.InstructionSet);
        if (GemmKernel.CanRun(GemmPath.Avx2))
        {
            double avx2 = PeakFlops.Measure(runner, GemmPath.Avx2, 0.1);
            if (GemmKernelAvx512.IsSupported)
            {
                // Twice the lanes per FMA (Zen 4 issues them at half rate: 1.5x is the least it gains).
                Assert.True(avx512 >= 1.5 * avx2, $"avx512 {avx512 / 1e9:F1} vs avx2 {avx2 / 1e9:F1} GFLOP/s");
            }
            else
            {
                Assert.True(avx2 >= avx512, $"emulated avx512 {avx512 / 1e9:F1} vs avx2 {avx2 / 1e9:F1} GFLOP/s");
            }
        }
    }

    [Fact]
    public void EveryThreadCounts()
    {
        if (Environment.ProcessorCount < 2)
        {
            return; // one core: two threads share it
        }

        using var one = new ParallelRunner(1);
        using var two = new ParallelRunner(2);
        double single = PeakFlops.Measure(one, 0.1);
        double both = PeakFlops.Measure(two, 0.1);
        Assert.True(both > 1.2 * single, $"2 threads {both / 1e9:F1} vs 1 thread {single / 1e9:F1} GFLOP/s");
    }

    private static NativeBuffer Filled(int length, int seed)
    {
        var buffer = new NativeBuffer(length);
        var rng = new Random(seed);
        for (int i = 0; i < length; i++)
        {
            buffer.Pointer[i] = (float)(rng.NextDouble() * 2 - 1);
        }

        return buffer;
    }
}
