using SharpGpt.Kernels;
using static SharpGpt.Tests.Kernels.KernelTestHelpers;

namespace SharpGpt.Tests.Kernels;

public sealed unsafe class AttentionTests
{
    internal sealed record Data(int B, int T, int C, int NH, double[] Qkv, double[] DOut);

    internal sealed record Result(float[] Out, float[] Att, float[] DQkv);

    /// <summary>
    /// Causal self-attention in double: qkv (B,T,3C) holds q | k | v, each split into NH heads of C/NH
    /// contiguous channels; att[b,h,i,j] = softmax_j&lt;=i(q_i·k_j / sqrt(hs)), 0 for j &gt; i; out_i = sum_j att_ij v_j.
    /// </summary>
    internal static double[] Reference(double[] qkv, int b, int t, int c, int nh, double[]? att = null)
    {
        int hs = c / nh, c3 = 3 * c;
        double scale = 1 / Math.Sqrt(hs);
        var o = new double[b * t * c];
        var w = new double[t];
        for (int bi = 0; bi < b; bi++)
        {
            for (int h = 0; h < nh; h++)
            {
                for (int i = 0; i < t; i++)
                {
                    int q = (((bi * t) + i) * c3) + (h * hs);
                    double max = double.NegativeInfinity;
                    for (int j = 0; j <= i; j++)
                    {
                        int k = (((bi * t) + j) * c3) + c + (h * hs);
                        double s = 0;
                        for (int d = 0; d < hs; d++)
                        {
                            s += qkv[q + d] * qkv[k + d];
                        }

                        w[j] = s * scale;
                        max = Math.Max(max, w[j]);
                    }

                    double sum = 0;
                    for (int j = 0; j <= i; j++)
                    {
                        w[j] = Math.Exp(w[j] - max);
                        sum += w[j];
                    }

                    for (int j = 0; j < t; j++)
                    {
                        double a = j <= i ? w[j] / sum : 0;
                        if (att is not null)
                        {
                            att[(((((bi * nh) + h) * t) + i) * t) + j] = a;
                        }

                        if (j <= i)
                        {
                            int v = (((bi * t) + j) * c3) + (2 * c) + (h * hs);
                            for (int d = 0; d < hs; d++)
                            {
                                o[(((bi * t) + i) * c) + (h * hs) + d] += a * qkv[v + d];
                            }
                        }
                    }
                }
            }
        }

        return o;
    }

    internal static Data MakeData(int b, int t, int c, int nh, int seed, double range = 1.5)
    {
        var rng = new Random(seed);
        return new Data(b, t, c, nh, RandomValues(rng, b * t * 3 * c, -range, range), RandomValues(rng, b * t * c));
    }

    /// <summary>Forward then backward; outputs and scratch start as NaN so every written element is checked.</summary>
    internal static Result Run(int threads, Data d, double[]? dqkv0 = null, bool viaCpuKernels = false)
    {
        int n = d.B * d.T;
        using var runner = new ParallelRunner(threads);
        using var qkv = GuardedBuffer.From("qkv", d.Qkv);
        using var dout = GuardedBuffer.From("dout", d.DOut);
        using var o = GuardedBuffer.Filled("out", n * d.C, float.NaN);
        using var att = GuardedBuffer.Filled("att", checked((int)Attention.AttentionScratchSize(d.B, d.T, d.NH)), float.NaN);
        using var scratch = GuardedBuffer.Filled("datt scratch", checked((int)Attention.BackwardScratchSize(d.B, d.T, d.NH)), float.NaN);
        using var dqkv = dqkv0 is null ? new GuardedBuffer("dqkv", n * 3 * d.C) : GuardedBuffer.From("dqkv", dqkv0);
        Assert.Equal((long)d.B * d.NH * d.T * d.T, att.Length);

        if (viaCpuKernels)
        {
            var k = new CpuKernels(runner, AttentionAlgorithm.Plain);
            Assert.Equal(att.Length, k.AttentionStateSize(d.B, d.T, d.NH));
            Assert.Equal(scratch.Length, k.AttentionScratchSize(d.B, d.T, d.C, d.NH));
            k.AttentionForward(o.Pointer, att.Pointer, qkv.Pointer, d.B, d.T, d.C, d.NH);
            k.AttentionBackward(dqkv.Pointer, scratch.Pointer, dout.Pointer, qkv.Pointer, o.Pointer, att.Pointer, d.B, d.T, d.C, d.NH);
        }
        else
        {
            Attention.Forward(runner, o.Pointer, att.Pointer, qkv.Pointer, d.B, d.T, d.C, d.NH);
            Attention.Backward(runner, dqkv.Pointer, scratch.Pointer, dout.Pointer, qkv.Pointer, att.Pointer, d.B, d.T, d.C, d.NH);
        }

        AssertGuardsIntact(qkv, dout, o, att, scratch, dqkv);
        return new Result(o.ToArray(), att.ToArray(), dqkv.ToArray());
    }

    [Theory]
    [InlineData(1, 2, 7, 12, 3)]   // hs 4
    [InlineData(2, 2, 13, 20, 4)]  // hs 5: no full vector in a head
    [InlineData(2, 1, 5, 48, 3)]   // hs 16: vector path
    [InlineData(1, 1, 1, 8, 2)]    // a single position
    [InlineData(2, 3, 6, 6, 6)]    // hs 1
    [InlineData(1, 1, 9, 33, 3)]   // hs 11: a vector and a tail
    public void Forward_MatchesDoubleReference(int threads, int b, int t, int c, int nh)
    {
        var d = MakeData(b, t, c, nh, seed: (b * 100) + t + c + nh);
        var att = new double[b * nh * t * t];
        var expected = Reference(d.Qkv, b, t, c, nh, att);

        var r = Run(threads, d);

        AssertCloseToScale(expected, r.Out, 1e-5, "out");
        AssertClose(att, r.Att, 1e-5, 1e-7, "att");
        for (int bh = 0; bh < b * nh; bh++)
        {
            for (int i = 0; i < t; i++)
            {
                AssertAllZero(r.Att.AsSpan((((bh * t) + i) * t) + i + 1, t - i - 1), $"att above the diagonal, head-batch {bh}, row {i}");
            }
        }
    }

    /// <summary>Scores in the hundreds would overflow exp in float without the max subtraction.</summary>
    [Fact]
    public void Forward_LargeScores_StayFiniteAndAccurate()
    {
        var d = MakeData(1, 7, 12, 3, seed: 2, range: 12);
        var att = new double[3 * 7 * 7];
        var expected = Reference(d.Qkv, 1, 7, 12, 3, att);
        var r = Run(1, d);
        AssertCloseToScale(expected, r.Out, 1e-4, "out");
        AssertClose(att, r.Att, 1e-4, 1e-6, "att");
    }

    [Theory]
    [InlineData(1, 2, 7, 12, 3)]
    [InlineData(2, 1, 13, 20, 4)]
    [InlineData(2, 1, 5, 48, 3)]
    [InlineData(1, 1, 1, 8, 2)]
    [InlineData(2, 3, 6, 6, 6)]
    [InlineData(1, 1, 9, 33, 3)]
    public void Backward_MatchesFiniteDifferences(int threads, int b, int t, int c, int nh)
    {
        var d = MakeData(b, t, c, nh, seed: 1000 + (b * 100) + t + c + nh);
        var g = NumericalGradient(x => Dot(d.DOut, Reference(x, b, t, c, nh)), d.Qkv);

        var r = Run(threads, d);

        AssertCloseToScale(g, r.DQkv, 1e-4, "dqkv");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Backward_AccumulatesIntoDQkv(int threads)
    {
        var d = MakeData(2, 7, 12, 3, seed: 17);
        var dqkv0 = RandomValues(new Random(18), 2 * 7 * 36, -3, 3);
        var fresh = Run(threads, d);
        var acc = Run(threads, d, dqkv0);
        AssertClose(Add(dqkv0, ToDouble(fresh.DQkv)), acc.DQkv, 1e-6, 1e-5, "dqkv (+=)");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void CpuKernelsBackward_OverwritesDQkv(int threads)
    {
        var d = MakeData(2, 7, 12, 3, seed: 19);
        var garbage = new double[2 * 7 * 36];
        Array.Fill(garbage, double.NaN);
        var direct = Run(threads, d);
        var wrapped = Run(threads, d, garbage, viaCpuKernels: true);
        AssertBitIdentical(direct.Out, wrapped.Out, "out");
        AssertBitIdentical(direct.DQkv, wrapped.DQkv, "dqkv (NaN prefill must be cleared)");
    }

    [Fact]
    public void Deterministic_AcrossRunsAndThreadCounts()
    {
        var d = MakeData(3, 13, 20, 4, seed: 21);
        var a = Run(1, d);
        foreach (var (threads, label) in new[] { (1, "1 thread, again"), (2, "2 threads"), (2, "2 threads, again") })
        {
            var b = Run(threads, d);
            AssertBitIdentical(a.Out, b.Out, $"out ({label})");
            AssertBitIdentical(a.Att, b.Att, $"att ({label})");
            AssertBitIdentical(a.DQkv, b.DQkv, $"dqkv ({label})");
        }
    }
}
