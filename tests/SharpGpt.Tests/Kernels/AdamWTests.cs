using SharpGpt.Kernels;
using static SharpGpt.Tests.Kernels.KernelTestHelpers;

namespace SharpGpt.Tests.Kernels;

public sealed unsafe class AdamWTests
{
    private const int Block = 16384; // AdamW's fixed block: counts above it use several parts

    private sealed record Hyper(float Lr, float Beta1, float Beta2, float Eps, float WeightDecay, float GradScale);

    private static readonly Hyper Gpt2 = new(1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f, 0.6f);

    private static readonly Hyper LlmcTest = new(1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 1f);

    /// <summary>
    /// Gradients spanning nine decades, so that some are small enough for eps to matter, plus exact
    /// zeros; parameters likewise include zeros.
    /// </summary>
    private static double[] Gradients(Random rng, int n)
    {
        var g = new double[n];
        for (int i = 0; i < n; i++)
        {
            g[i] = i % 17 == 0 ? 0 : (float)(((2 * rng.NextDouble()) - 1) * Math.Pow(10, -8 + (9 * rng.NextDouble())));
        }

        return g;
    }

    /// <summary>
    /// One step of llm.c's AdamW in double from the given state: g = grad * scale; m = b1 m + (1-b1) g;
    /// v = b2 v + (1-b2) g^2; mhat = m / (1-b1^t); vhat = v / (1-b2^t); p -= lr (mhat / (sqrt(vhat) + eps) + wd p).
    /// Also returns error bounds for a float implementation: a few ulps of each result's terms, and for p
    /// a 1e-4 relative error on the step (the float bias corrections 1 - b^t lose digits for b near 1).
    /// </summary>
    private static (double[] P, double[] M, double[] V, double[] PBound, double[] MBound, double[] VBound) Reference(
        double[] p0, double[] g0, double[] m0, double[] v0, Hyper h, int t)
    {
        int n = p0.Length;
        double b1 = h.Beta1, b2 = h.Beta2, c1 = 1 - Math.Pow(b1, t), c2 = 1 - Math.Pow(b2, t);
        var (p, m, v) = (new double[n], new double[n], new double[n]);
        var (pb, mb, vb) = (new double[n], new double[n], new double[n]);
        for (int i = 0; i < n; i++)
        {
            double g = g0[i] * h.GradScale;
            m[i] = (b1 * m0[i]) + ((1 - b1) * g);
            v[i] = (b2 * v0[i]) + ((1 - b2) * g * g);
            double mhat = m[i] / c1, vhat = v[i] / c2;
            double adam = mhat / (Math.Sqrt(vhat) + h.Eps), decay = h.WeightDecay * p0[i];
            p[i] = p0[i] - (h.Lr * (adam + decay));
            mb[i] = 1e-6 * (Math.Abs(b1 * m0[i]) + Math.Abs((1 - b1) * g));
            vb[i] = 1e-6 * ((b2 * v0[i]) + ((1 - b2) * g * g));
            pb[i] = (1e-6 * Math.Abs(p0[i])) + (1e-4 * h.Lr * (Math.Abs(adam) + Math.Abs(decay)));
        }

        return (p, m, v, pb, mb, vb);
    }

    private static void Step(ParallelRunner runner, GuardedBuffer p, GuardedBuffer g, GuardedBuffer m, GuardedBuffer v, Hyper h, int t)
        => AdamW.Update(runner, p.Pointer, g.Pointer, m.Pointer, v.Pointer, p.Length, h.Lr, h.Beta1, h.Beta2, h.Eps, h.WeightDecay, t, h.GradScale);

    public static TheoryData<int, int, bool> Cases => new()
    {
        { 1, 1, true },
        { 1, 37, true },
        { 2, 37, false },
        { 2, Block + 1037, true }, // two blocks, neither count a multiple of the vector width
        { 1, Block + 1037, false },
    };

    /// <summary>Five steps from zero moments, then a jump to step 1000; each step checked from the kernel's own float state.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void Update_MatchesDoubleReference_StepByStep(int threads, int n, bool gpt2Settings)
    {
        var h = gpt2Settings ? Gpt2 : LlmcTest;
        var rng = new Random(n);
        using var runner = new ParallelRunner(threads);
        var p0 = RandomValues(rng, n);
        for (int i = 5; i < n; i += 13)
        {
            p0[i] = 0;
        }

        using var p = GuardedBuffer.From("params", p0);
        using var m = new GuardedBuffer("m", n);
        using var v = new GuardedBuffer("v", n);
        using var g = new GuardedBuffer("grads", n);
        foreach (int t in new[] { 1, 2, 3, 4, 5, 1000 })
        {
            g.Set(Gradients(rng, n));
            var (pBefore, gBefore, mBefore, vBefore) = (p.ToDoubles(), g.ToDoubles(), m.ToDoubles(), v.ToDoubles());
            var e = Reference(pBefore, gBefore, mBefore, vBefore, h, t);

            Step(runner, p, g, m, v, h, t);

            AssertWithin(e.M, m.ToDoubles(), e.MBound, $"m after step {t}", "1e-6 (|b1 m| + |(1-b1) g|)");
            AssertWithin(e.V, v.ToDoubles(), e.VBound, $"v after step {t}", "1e-6 (b2 v + (1-b2) g^2)");
            AssertWithin(e.P, p.ToDoubles(), e.PBound, $"params after step {t}", "1e-6 |p| + 1e-4 lr (|adam step| + |wd p|)");
            AssertBitIdentical(ToFloat(gBefore), g.Span, $"grads after step {t} (must be left alone)");
            AssertGuardsIntact(p, m, v, g);
        }
    }

    /// <summary>With a zero gradient and zero moments only the decoupled weight decay moves the parameters.</summary>
    [Fact]
    public void Update_ZeroGradient_AppliesOnlyWeightDecay()
    {
        const int n = 29;
        using var runner = new ParallelRunner(1);
        var p0 = RandomValues(new Random(1), n, -2, 2);
        using var p = GuardedBuffer.From("params", p0);
        using var m = new GuardedBuffer("m", n);
        using var v = new GuardedBuffer("v", n);
        using var g = new GuardedBuffer("grads", n);
        Step(runner, p, g, m, v, Gpt2, 1);
        var expected = Array.ConvertAll(p0, x => x * (1 - (Gpt2.Lr * (double)Gpt2.WeightDecay)));
        AssertClose(expected, p.Span, 1e-6, 0, "params");
        AssertAllZero(m.Span, "m");
        AssertAllZero(v.Span, "v");
    }

    /// <summary>zeroGrads clears every gradient (vector body and scalar tail) and changes nothing else.</summary>
    [Fact]
    public unsafe void Update_ZeroGrads_ClearsTheGradientsInTheSamePass()
    {
        int n = Block + 13;
        var rng = new Random(8);
        var p0 = RandomValues(rng, n);
        var g0 = Gradients(rng, n);
        float[][] Run(bool zero)
        {
            using var runner = new ParallelRunner(2);
            using var p = GuardedBuffer.From("params", p0);
            using var m = new GuardedBuffer("m", n);
            using var v = new GuardedBuffer("v", n);
            using var g = GuardedBuffer.From("grads", g0);
            var h = Gpt2;
            AdamW.Update(runner, p.Pointer, g.Pointer, m.Pointer, v.Pointer, n, h.Lr, h.Beta1, h.Beta2, h.Eps, h.WeightDecay, 1, h.GradScale, zero);
            AssertGuardsIntact(p, m, v, g);
            return [p.ToArray(), m.ToArray(), v.ToArray(), g.ToArray()];
        }

        var kept = Run(false);
        var cleared = Run(true);
        for (int i = 0; i < 3; i++)
        {
            AssertBitIdentical(kept[i], cleared[i], "the update must not depend on zeroGrads");
        }

        Assert.Contains(kept[3], x => x != 0);
        AssertAllZero(cleared[3], "grads after a zeroing update");
    }

    /// <summary>
    /// The scalar tail does the vector body's arithmetic, so updating a buffer in two ranges cut off
    /// the vector grid (as ranks that own slices do) gives the bits of one update over all of it.
    /// </summary>
    [Fact]
    public void Update_AnElementDoesNotDependOnWhereTheRangeIsCut()
    {
        int n = Block + 1037;
        var rng = new Random(11);
        var p0 = RandomValues(rng, n);
        var g0 = Gradients(rng, n);
        float[][] Run(params int[] cuts)
        {
            using var runner = new ParallelRunner(1);
            using var p = GuardedBuffer.From("params", p0);
            using var m = new GuardedBuffer("m", n);
            using var v = new GuardedBuffer("v", n);
            using var g = new GuardedBuffer("grads", n);
            var h = Gpt2;
            for (int t = 1; t <= 3; t++)
            {
                g.Set(g0);
                int[] bounds = [0, .. cuts, n];
                for (int i = 0; i + 1 < bounds.Length; i++)
                {
                    int o = bounds[i], count = bounds[i + 1] - o;
                    AdamW.Update(runner, p.Pointer + o, g.Pointer + o, m.Pointer + o, v.Pointer + o, count, h.Lr, h.Beta1, h.Beta2, h.Eps, h.WeightDecay, t, h.GradScale);
                }
            }

            return [p.ToArray(), m.ToArray(), v.ToArray()];
        }

        var whole = Run();
        var cut = Run(3, 4099, n - 2);
        AssertBitIdentical(whole[0], cut[0], "params");
        AssertBitIdentical(whole[1], cut[1], "m");
        AssertBitIdentical(whole[2], cut[2], "v");
    }

    [Fact]
    public void Deterministic_AcrossRunsAndThreadCounts()
    {
        int n = (3 * Block) + 11;
        var rng = new Random(5);
        var p0 = RandomValues(rng, n);
        var grads = new[] { Gradients(rng, n), Gradients(rng, n), Gradients(rng, n) };
        float[][] Run(int threads)
        {
            using var runner = new ParallelRunner(threads);
            using var p = GuardedBuffer.From("params", p0);
            using var m = new GuardedBuffer("m", n);
            using var v = new GuardedBuffer("v", n);
            using var g = new GuardedBuffer("grads", n);
            for (int t = 1; t <= grads.Length; t++)
            {
                g.Set(grads[t - 1]);
                Step(runner, p, g, m, v, Gpt2, t);
            }

            return [p.ToArray(), m.ToArray(), v.ToArray()];
        }

        var a = Run(1);
        foreach (var (threads, label) in new[] { (1, "1 thread, again"), (2, "2 threads"), (2, "2 threads, again") })
        {
            var b = Run(threads);
            AssertBitIdentical(a[0], b[0], $"params ({label})");
            AssertBitIdentical(a[1], b[1], $"m ({label})");
            AssertBitIdentical(a[2], b[2], $"v ({label})");
        }
    }
}
