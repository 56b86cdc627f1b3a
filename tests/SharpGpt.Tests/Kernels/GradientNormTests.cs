using SharpGpt.Kernels;
using static SharpGpt.Tests.Kernels.KernelTestHelpers;

namespace SharpGpt.Tests.Kernels;

public sealed unsafe class GradientNormTests
{
    private const int Block = 65536; // GradientNorm's fixed block: one partial per block

    private static double Compute(int threads, double[] values)
    {
        using var runner = new ParallelRunner(threads);
        using var data = GuardedBuffer.From("data", values);
        int parts = GradientNorm.PartialCount(values.Length);
        var partials = new double[parts + 1];
        partials[parts] = double.NaN; // a guard: nothing past PartialCount may be written
        double norm;
        fixed (double* pp = partials)
        {
            norm = GradientNorm.Compute(runner, data.Pointer, values.Length, pp);
        }

        Assert.True(double.IsNaN(partials[parts]), "GradientNorm wrote past PartialCount partials");
        data.AssertGuardsIntact();
        return norm;
    }

    private static double ExactNorm(double[] x)
    {
        double s = 0;
        foreach (double v in x)
        {
            s += v * v;
        }

        return Math.Sqrt(s);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(37, 1)]
    [InlineData(Block, 1)]
    [InlineData(Block + 1, 2)]
    [InlineData((2 * Block) + 37, 3)]
    public void PartialCount_IsOnePerBlock(int count, int expected) => Assert.Equal(expected, GradientNorm.PartialCount(count));

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 13)]
    [InlineData(2, 37)]
    [InlineData(1, (2 * Block) + 37)]
    [InlineData(2, (2 * Block) + 37)]
    public void Compute_MatchesDoubleNorm(int threads, int n)
    {
        var x = RandomValues(new Random(n), n, -1, 1);
        double expected = ExactNorm(x);
        double actual = Compute(threads, x);
        Assert.True(Math.Abs(actual - expected) <= 1e-6 * expected, $"norm {actual:G17}, expected {expected:G17}, rel err {Math.Abs(actual - expected) / expected:G3}");
    }

    /// <summary>
    /// Small integers square and add exactly in float, so any element missed or counted twice (a vector
    /// tail, a block boundary, a part) changes the result, which must equal the exact norm to the last bit.
    /// </summary>
    [Theory]
    [InlineData(1, 5)]
    [InlineData(2, 37)]
    [InlineData(1, (3 * Block) + 13)]
    [InlineData(2, (3 * Block) + 13)]
    public void Compute_IsExactOnIntegers(int threads, int n)
    {
        var rng = new Random(n);
        var x = new double[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = rng.Next(-3, 4);
        }

        Assert.Equal(ExactNorm(x), Compute(threads, x));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(Block - 1)]
    [InlineData(Block)]
    [InlineData((2 * Block) + 12)]
    public void Compute_SeesEveryPosition(int position)
    {
        int n = (2 * Block) + 13;
        var x = new double[n];
        x[position] = -5;
        Assert.Equal(5.0, Compute(2, x));
    }

    [Fact]
    public void Compute_EmptyIsZero() => Assert.Equal(0.0, Compute(2, []));

    [Fact]
    public void Deterministic_AcrossRunsAndThreadCounts()
    {
        var x = RandomValues(new Random(3), (4 * Block) + 3, -2, 2);
        long a = BitConverter.DoubleToInt64Bits(Compute(1, x));
        Assert.Equal(a, BitConverter.DoubleToInt64Bits(Compute(1, x)));
        Assert.Equal(a, BitConverter.DoubleToInt64Bits(Compute(2, x)));
        Assert.Equal(a, BitConverter.DoubleToInt64Bits(Compute(2, x)));
    }
}
