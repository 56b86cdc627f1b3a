using System.Numerics;
using System.Runtime.CompilerServices;

namespace SharpGpt.Kernels;

/// <summary>The global L2 norm of a buffer, summed in fixed blocks (in double) so it is identical run to run.</summary>
internal static unsafe class GradientNorm
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
        var squares = default(SquareSum);
        long i = start;
        for (; i <= end - Vector<float>.Count; i += Vector<float>.Count)
        {
            squares.Add(Vector.Load(a->Data + i));
        }

        squares.EndVectors();
        for (; i < end; i++)
        {
            squares.Add(a->Data[i]);
        }

        a->Partials[part] = squares.Total;
    }

    /// <summary>
    /// A block's sum of squares as every norm here takes it: vectors of squares added in float, poured
    /// into a double every 256 vectors (and once after the last, <see cref="EndVectors"/>), then the
    /// tail's elements in double. Callers that sum a block another way (the thread ranks' fused
    /// gradient sum) get the same bits for the same values.
    /// </summary>
    internal struct SquareSum
    {
        private Vector<float> _vectors;
        private double _total;
        private int _count;

        public readonly double Total => _total;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Add(Vector<float> x)
        {
            _vectors += x * x;
            if (++_count == 256)
            {
                EndVectors();
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void EndVectors()
        {
            _total += Vector.Sum(_vectors);
            _vectors = Vector<float>.Zero;
            _count = 0;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Add(float x) => _total += (double)x * x;
    }
}
