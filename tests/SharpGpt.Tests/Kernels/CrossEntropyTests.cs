using SharpGpt.Kernels;
using static SharpGpt.Tests.Kernels.KernelTestHelpers;

namespace SharpGpt.Tests.Kernels;

public sealed unsafe class CrossEntropyTests
{
    /// <summary>A value in the padded columns that would dominate the max and the sum if it were ever read as a logit.</summary>
    private const float PaddingGarbage = 1e4f;

    private sealed record Data(int Rows, int V, int Vp, double[] Logits, int[] Targets);

    private sealed record Result(float[] Losses, float[] Lse, float[] DLogits);

    /// <summary>lse[r] = log sum_{j&lt;V} exp(x[r,j]); loss[r] = lse[r] - x[r,target], or 0 where target is -1.</summary>
    private static double[] Reference(double[] logits, int[] targets, int rows, int v, int vp, double[]? lse = null)
    {
        var losses = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < v; j++)
            {
                max = Math.Max(max, logits[(r * vp) + j]);
            }

            double sum = 0;
            for (int j = 0; j < v; j++)
            {
                sum += Math.Exp(logits[(r * vp) + j] - max);
            }

            double l = max + Math.Log(sum);
            lse?[r] = l;
            losses[r] = targets[r] < 0 ? 0 : l - logits[(r * vp) + targets[r]];
        }

        return losses;
    }

    private static Data MakeData(int rows, int v, int vp, int seed, double offset = 0)
    {
        var rng = new Random(seed);
        var logits = new double[rows * vp];
        var targets = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < vp; j++)
            {
                logits[(r * vp) + j] = j < v ? (float)(offset + (4 * rng.NextDouble()) - 2) : PaddingGarbage;
            }

            // Masked rows, the first and the last real column, and random ones.
            targets[r] = (r % 5) switch { 1 => -1, 2 => 0, 3 => v - 1, _ => rng.Next(v) };
        }

        return new Data(rows, v, vp, logits, targets);
    }

    private static Result Run(int threads, Data d, float dloss)
    {
        using var runner = new ParallelRunner(threads);
        using var logits = GuardedBuffer.From("logits", d.Logits);
        using var losses = GuardedBuffer.Filled("losses", d.Rows, float.NaN);
        using var lse = GuardedBuffer.Filled("lse", d.Rows, float.NaN);
        fixed (int* targets = d.Targets)
        {
            CrossEntropy.Forward(runner, losses.Pointer, lse.Pointer, logits.Pointer, targets, d.Rows, d.V, d.Vp);
            CrossEntropy.Backward(runner, logits.Pointer, lse.Pointer, targets, dloss, d.Rows, d.V, d.Vp);
        }

        AssertGuardsIntact(logits, losses, lse);
        return new Result(losses.ToArray(), lse.ToArray(), logits.ToArray());
    }

    [Theory]
    [InlineData(1, 14, 37, 48)]
    [InlineData(2, 14, 37, 48)]
    [InlineData(1, 10, 13, 16)]
    [InlineData(2, 11, 8, 8)]    // no padding
    [InlineData(1, 6, 5, 7)]     // fewer real columns than a vector
    [InlineData(2, 5, 100, 128)]
    public void Forward_MatchesDoubleReference(int threads, int rows, int v, int vp)
    {
        var d = MakeData(rows, v, vp, seed: rows + v + vp);
        var lse = new double[rows];
        var losses = Reference(d.Logits, d.Targets, rows, v, vp, lse);

        var r = Run(threads, d, 1f);

        AssertClose(losses, r.Losses, 1e-5, 1e-6, "losses");
        AssertClose(lse, r.Lse, 1e-6, 1e-6, "lse");
        for (int i = 0; i < rows; i++)
        {
            if (d.Targets[i] < 0)
            {
                Assert.True(r.Losses[i] == 0f, $"masked row {i} has loss {r.Losses[i]}");
            }
        }
    }

    /// <summary>Logits around 100: exp overflows float without the max subtraction.</summary>
    [Fact]
    public void Forward_LargeLogits_StayFiniteAndAccurate()
    {
        var d = MakeData(10, 37, 40, seed: 4, offset: 100);
        var lse = new double[10];
        var losses = Reference(d.Logits, d.Targets, 10, 37, 40, lse);
        var r = Run(1, d, 1f);

        // The inputs themselves are only resolved to ulp(100) = 7.6e-6.
        AssertClose(losses, r.Losses, 1e-5, 3e-5, "losses");
        AssertClose(lse, r.Lse, 1e-6, 0, "lse");
    }

    /// <summary>L = dloss * sum of the unmasked losses; its gradient replaces the logits.</summary>
    [Theory]
    [InlineData(1, 14, 37, 48)]
    [InlineData(2, 14, 37, 48)]
    [InlineData(1, 10, 13, 16)]
    [InlineData(2, 11, 8, 8)]
    [InlineData(1, 6, 5, 7)]
    [InlineData(2, 5, 100, 128)]
    public void Backward_MatchesFiniteDifferences(int threads, int rows, int v, int vp)
    {
        const float dloss = 0.375f;
        var d = MakeData(rows, v, vp, seed: 500 + rows + v + vp);
        double Loss(double[] x)
        {
            double s = 0;
            foreach (double l in Reference(x, d.Targets, rows, v, vp))
            {
                s += l * dloss;
            }

            return s;
        }

        var g = NumericalGradient(Loss, d.Logits);

        var r = Run(threads, d, dloss);

        AssertCloseToScale(g, r.DLogits, 1e-4, "dlogits");
        for (int i = 0; i < rows; i++)
        {
            var row = r.DLogits.AsSpan(i * vp, vp);
            if (d.Targets[i] < 0)
            {
                AssertAllZero(row, $"dlogits of masked row {i}");
            }
            else
            {
                AssertAllZero(row[v..], $"dlogits padded columns of row {i}");

                // Each unmasked row's gradient is dloss * (softmax - onehot), which sums to zero.
                double sum = 0;
                foreach (float x in row)
                {
                    sum += x;
                }

                Assert.True(Math.Abs(sum) < 1e-5, $"dlogits of row {i} sums to {sum}, expected 0");
            }
        }
    }

    [Fact]
    public void Backward_ScalesLinearlyWithDLoss()
    {
        var d = MakeData(9, 37, 48, seed: 6);
        var one = Run(1, d, 1f);
        var quarter = Run(1, d, 0.25f);

        // Multiplying by a power of two is exact, so the weighted gradient is exactly a quarter.
        var expected = Array.ConvertAll(one.DLogits, x => x * 0.25f);
        AssertBitIdentical(expected, quarter.DLogits, "dlogits with dloss 0.25");
    }

    [Fact]
    public void Deterministic_AcrossRunsAndThreadCounts()
    {
        var d = MakeData(23, 37, 48, seed: 7);
        var a = Run(1, d, 0.1f);
        foreach (var (threads, label) in new[] { (1, "1 thread, again"), (2, "2 threads"), (2, "2 threads, again") })
        {
            var b = Run(threads, d, 0.1f);
            AssertBitIdentical(a.Losses, b.Losses, $"losses ({label})");
            AssertBitIdentical(a.Lse, b.Lse, $"lse ({label})");
            AssertBitIdentical(a.DLogits, b.DLogits, $"dlogits ({label})");
        }
    }
}
