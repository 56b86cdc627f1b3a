using System.Numerics;

namespace SharpGpt.Kernels;

/// <summary>The global L2 norm of a buffer, summed in fixed blocks (in double) so it is identical run to run.</summary>
public static unsafe class GradientNorm
{
    private const int Block = 65536;

    private struct Args
    {
        public float* Data;
        public double* Partials;
        public long Count;
    }

    /// <param name="partials">Scratch of at least <see cref="PartialCount"/> doubles.</param>
    public static double Compute(ParallelRunner runner, float* data, long count, double* partials) =>
        Math.Sqrt(SumOfSquares(runner, data, count, partials));

    /// <summary>The squared norm, so the parts of a buffer held by different ranks can be summed before the square root.</summary>
    public static double SumOfSquares(ParallelRunner runner, float* data, long count, double* partials)
    {
        var args = new Args { Data = data, Count = count, Partials = partials };
        int parts = PartialCount(count);
        runner.For(parts, &SumSquaresBlock, &args);
        double total = 0;
        for (int i = 0; i < parts; i++)
        {
            total += partials[i];
        }

        return total;
    }

    public static int PartialCount(long count) => (int)((count + Block - 1) / Block);

    private static void SumSquaresBlock(int part, void* p)
    {
        var a = (Args*)p;
        long start = (long)part * Block, end = Math.Min(a->Count, start + Block);
        var acc = Vector<float>.Zero;
        double sum = 0;
        long i = start;
        int inner = 0;
        for (; i <= end - Vector<float>.Count; i += Vector<float>.Count)
        {
            var g = Vector.Load(a->Data + i);
            acc += g * g;
            if (++inner == 256)
            {
                sum += Vector.Sum(acc);
                acc = Vector<float>.Zero;
                inner = 0;
            }
        }

        sum += Vector.Sum(acc);
        for (; i < end; i++)
        {
            sum += (double)a->Data[i] * a->Data[i];
        }

        a->Partials[part] = sum;
    }
}
