using SharpGpt.Kernels;
using static SharpGpt.Tests.Kernels.KernelTestHelpers;

namespace SharpGpt.Tests.Kernels;

public sealed unsafe class LayerNormTests
{
    private sealed record Data(int Rows, int C, double[] X, double[] W, double[] B, double[] DOut);

    private sealed record Result(float[] Out, float[] Mean, float[] Rstd, float[] DInp, float[] DWeight, float[] DBias);

    /// <summary>out = (x - mean) / sqrt(var + 1e-5) * w + b per row, with the biased (1/C) variance.</summary>
    private static double[] Reference(double[] x, double[] w, double[] b, int rows, int c, double[]? mean = null, double[]? rstd = null)
    {
        var o = new double[rows * c];
        for (int r = 0; r < rows; r++)
        {
            double m = 0;
            for (int i = 0; i < c; i++)
            {
                m += x[(r * c) + i];
            }

            m /= c;
            double v = 0;
            for (int i = 0; i < c; i++)
            {
                double d = x[(r * c) + i] - m;
                v += d * d;
            }

            v /= c;
            double s = 1 / Math.Sqrt(v + 1e-5);
            for (int i = 0; i < c; i++)
            {
                o[(r * c) + i] = ((x[(r * c) + i] - m) * s * w[i]) + b[i];
            }

            mean?[r] = m;
            rstd?[r] = s;
        }

        return o;
    }

    private static Data MakeData(int rows, int c, int seed)
    {
        var rng = new Random(seed);
        var x = new double[rows * c];
        for (int r = 0; r < rows; r++)
        {
            // Rows with different means and spreads, one of them far from zero, to exercise the centring.
            double offset = r == 0 ? 10 : (rng.NextDouble() * 6) - 3;
            double spread = 0.5 + (2 * rng.NextDouble());
            for (int i = 0; i < c; i++)
            {
                x[(r * c) + i] = (float)(offset + (spread * ((2 * rng.NextDouble()) - 1)));
            }
        }

        return new Data(rows, c, x, RandomValues(rng, c, -1.5, 1.5), RandomValues(rng, c, -0.5, 0.5), RandomValues(rng, rows * c));
    }

    private static Result Run(int threads, Data d, double[]? dinp0 = null, double[]? dweight0 = null, double[]? dbias0 = null)
    {
        int n = d.Rows * d.C;
        using var runner = new ParallelRunner(threads);
        using var x = GuardedBuffer.From("inp", d.X);
        using var w = GuardedBuffer.From("weight", d.W);
        using var b = GuardedBuffer.From("bias", d.B);
        using var dout = GuardedBuffer.From("dout", d.DOut);
        using var o = GuardedBuffer.Filled("out", n, float.NaN);
        using var mean = GuardedBuffer.Filled("mean", d.Rows, float.NaN);
        using var rstd = GuardedBuffer.Filled("rstd", d.Rows, float.NaN);
        using var dinp = GuardedBuffer.From("dinp", dinp0 ?? new double[n]);
        using var dw = GuardedBuffer.From("dweight", dweight0 ?? new double[d.C]);
        using var db = GuardedBuffer.From("dbias", dbias0 ?? new double[d.C]);

        LayerNorm.Forward(runner, o.Pointer, mean.Pointer, rstd.Pointer, x.Pointer, w.Pointer, b.Pointer, d.Rows, d.C);
        LayerNorm.Backward(runner, dinp.Pointer, dw.Pointer, db.Pointer, dout.Pointer, x.Pointer, w.Pointer, mean.Pointer, rstd.Pointer, d.Rows, d.C);

        AssertGuardsIntact(x, w, b, dout, o, mean, rstd, dinp, dw, db);
        return new Result(o.ToArray(), mean.ToArray(), rstd.ToArray(), dinp.ToArray(), dw.ToArray(), db.ToArray());
    }

    [Theory]
    [InlineData(1, 14, 20)]
    [InlineData(2, 37, 13)]
    [InlineData(2, 96, 128)]
    public void ForwardResidual_EqualsResidualAddThenLayerNorm(int threads, int rows, int c)
    {
        using var runner = new ParallelRunner(threads);
        var rng = new Random(rows + c);
        float[] Fill(int n) => Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 4) - 2)).ToArray();
        float[] a = Fill(rows * c), b = Fill(rows * c), w = Fill(c), bias = Fill(c);
        var fused = (Res: new float[rows * c], Out: new float[rows * c], Mean: new float[rows], Rstd: new float[rows]);
        var apart = (Res: new float[rows * c], Out: new float[rows * c], Mean: new float[rows], Rstd: new float[rows]);
        fixed (float* pa = a, pb = b, pw = w, pbias = bias)
        fixed (float* fr = fused.Res, fo = fused.Out, fm = fused.Mean, fs = fused.Rstd)
        fixed (float* ar = apart.Res, ao = apart.Out, am = apart.Mean, ast = apart.Rstd)
        {
            LayerNorm.ForwardResidual(runner, fr, fo, fm, fs, pa, pb, pw, pbias, rows, c);
            Residual.Forward(runner, ar, pa, pb, (long)rows * c);
            LayerNorm.Forward(runner, ao, am, ast, ar, pw, pbias, rows, c);
        }

        Assert.Equal(apart.Res, fused.Res);
        Assert.Equal(apart.Out, fused.Out);
        Assert.Equal(apart.Mean, fused.Mean);
        Assert.Equal(apart.Rstd, fused.Rstd);
        Assert.NotEqual(a, fused.Res);
    }

    [Theory]
    [InlineData(1, 14, 20)]
    [InlineData(2, 14, 20)]
    [InlineData(1, 13, 12)]
    [InlineData(2, 7, 5)]
    [InlineData(2, 3, 37)]
    public void Forward_MatchesDoubleReference(int threads, int rows, int c)
    {
        var d = MakeData(rows, c, seed: 11 + rows + c);
        var mean = new double[rows];
        var rstd = new double[rows];
        var expected = Reference(d.X, d.W, d.B, rows, c, mean, rstd);

        var r = Run(threads, d);

        AssertCloseToScale(expected, r.Out, 1e-5, "out");
        AssertClose(mean, r.Mean, 1e-6, 1e-6, "mean");
        AssertClose(rstd, r.Rstd, 1e-5, 0, "rstd");
    }

    [Theory]
    [InlineData(1, 14, 20)]
    [InlineData(2, 14, 20)]
    [InlineData(1, 13, 12)]
    [InlineData(2, 7, 5)]
    [InlineData(2, 3, 37)]
    public void Backward_MatchesFiniteDifferences(int threads, int rows, int c)
    {
        var d = MakeData(rows, c, seed: 23 + rows + c);
        var gx = NumericalGradient(x => Dot(d.DOut, Reference(x, d.W, d.B, rows, c)), d.X);
        var gw = NumericalGradient(w => Dot(d.DOut, Reference(d.X, w, d.B, rows, c)), d.W);
        var gb = NumericalGradient(b => Dot(d.DOut, Reference(d.X, d.W, b, rows, c)), d.B);

        var r = Run(threads, d);

        AssertCloseToScale(gx, r.DInp, 1e-4, "dinp");
        AssertCloseToScale(gw, r.DWeight, 1e-4, "dweight");
        AssertCloseToScale(gb, r.DBias, 1e-4, "dbias");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Backward_AccumulatesIntoAllGradients(int threads)
    {
        var d = MakeData(9, 20, seed: 5);
        var rng = new Random(6);
        var dinp0 = RandomValues(rng, 9 * 20, -3, 3);
        var dw0 = RandomValues(rng, 20, -3, 3);
        var db0 = RandomValues(rng, 20, -3, 3);

        var fresh = Run(threads, d);
        var acc = Run(threads, d, dinp0, dw0, db0);

        // The per-row dinp is added once, so the sum is bit-exact; dweight/dbias add row by row.
        AssertBitIdentical(ToFloat(Add(dinp0, ToDouble(fresh.DInp))), acc.DInp, "dinp (+=)");
        AssertClose(Add(dw0, ToDouble(fresh.DWeight)), acc.DWeight, 1e-6, 1e-6, "dweight (+=)");
        AssertClose(Add(db0, ToDouble(fresh.DBias)), acc.DBias, 1e-6, 1e-6, "dbias (+=)");
    }

    [Fact]
    public void Deterministic_AcrossRunsAndThreadCounts()
    {
        var d = MakeData(64, 37, seed: 9);
        var a = Run(1, d);
        foreach (var (threads, label) in new[] { (1, "1 thread, again"), (2, "2 threads"), (2, "2 threads, again") })
        {
            var b = Run(threads, d);
            AssertBitIdentical(a.Out, b.Out, $"out ({label})");
            AssertBitIdentical(a.Mean, b.Mean, $"mean ({label})");
            AssertBitIdentical(a.Rstd, b.Rstd, $"rstd ({label})");
            AssertBitIdentical(a.DInp, b.DInp, $"dinp ({label})");
            AssertBitIdentical(a.DWeight, b.DWeight, $"dweight ({label})");
            AssertBitIdentical(a.DBias, b.DBias, $"dbias ({label})");
        }
    }
}
