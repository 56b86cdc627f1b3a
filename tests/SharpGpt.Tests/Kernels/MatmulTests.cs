using SharpGpt.Kernels;
using static SharpGpt.Tests.Kernels.KernelTestHelpers;

namespace SharpGpt.Tests.Kernels;

/// <summary>Matmul through its public API only (the GEMM underneath is being replaced), on shapes that
/// are not multiples of any plausible register tile or vector width.</summary>
public sealed unsafe class MatmulTests
{
    private sealed record Data(int Rows, int C, int OC, double[] Inp, double[] W, double[]? Bias, double[] DOut);

    private sealed record Result(float[] Out, float[] DInp, float[] DWeight, float[]? DBias);

    /// <summary>out[n,o] = sum_c inp[n,c] W[o,c] + bias[o], W stored [OC, C].</summary>
    private static double[] Reference(double[] inp, double[] w, double[]? bias, int rows, int c, int oc)
    {
        var o = new double[rows * oc];
        for (int n = 0; n < rows; n++)
        {
            for (int j = 0; j < oc; j++)
            {
                double s = bias?[j] ?? 0;
                for (int i = 0; i < c; i++)
                {
                    s += inp[(n * c) + i] * w[(j * c) + i];
                }

                o[(n * oc) + j] = s;
            }
        }

        return o;
    }

    private static Data MakeData(int rows, int c, int oc, bool bias, int seed)
    {
        var rng = new Random(seed);
        return new Data(rows, c, oc, RandomValues(rng, rows * c), RandomValues(rng, oc * c), bias ? RandomValues(rng, oc) : null, RandomValues(rng, rows * oc));
    }

    /// <summary>Forward then backward; dinp starts as NaN, which an overwriting backward must not read.</summary>
    private static Result Run(int threads, Data d, double[]? dweight0 = null, double[]? dbias0 = null, float dinpFill = float.NaN)
    {
        using var runner = new ParallelRunner(threads);
        using var inp = GuardedBuffer.From("inp", d.Inp);
        using var w = GuardedBuffer.From("weight", d.W);
        using var bias = d.Bias is null ? null : GuardedBuffer.From("bias", d.Bias);
        using var dout = GuardedBuffer.From("dout", d.DOut);
        using var o = GuardedBuffer.Filled("out", d.Rows * d.OC, float.NaN);
        using var dinp = GuardedBuffer.Filled("dinp", d.Rows * d.C, dinpFill);
        using var dw = GuardedBuffer.From("dweight", dweight0 ?? new double[d.OC * d.C]);
        using var db = d.Bias is null ? null : GuardedBuffer.From("dbias", dbias0 ?? new double[d.OC]);
        float* biasPtr = bias is null ? null : bias.Pointer;
        float* dbiasPtr = db is null ? null : db.Pointer;

        Matmul.Forward(runner, o.Pointer, inp.Pointer, w.Pointer, biasPtr, d.Rows, d.C, d.OC);
        Matmul.Backward(runner, dinp.Pointer, dw.Pointer, dbiasPtr, dout.Pointer, inp.Pointer, w.Pointer, d.Rows, d.C, d.OC);

        AssertGuardsIntact(inp, w, dout, o, dinp, dw);
        bias?.AssertGuardsIntact();
        db?.AssertGuardsIntact();
        return new Result(o.ToArray(), dinp.ToArray(), dw.ToArray(), db?.ToArray());
    }

    [Theory]
    [InlineData(1, 14, 20, 13, true)]
    [InlineData(2, 14, 20, 13, false)]
    [InlineData(2, 5, 12, 70, true)]
    [InlineData(1, 1, 1, 1, true)]
    [InlineData(2, 6, 16, 16, false)]
    [InlineData(2, 37, 291, 67, true)]
    [InlineData(1, 19, 5, 131, true)]
    public void Forward_MatchesDoubleReference(int threads, int rows, int c, int oc, bool bias)
    {
        var d = MakeData(rows, c, oc, bias, seed: rows + c + oc);
        var r = Run(threads, d);
        AssertCloseToScale(Reference(d.Inp, d.W, d.Bias, rows, c, oc), r.Out, 1e-5, "out");
    }

    [Theory]
    [InlineData(1, 14, 20, 13, true)]
    [InlineData(2, 14, 20, 13, false)]
    [InlineData(2, 5, 12, 70, true)]
    [InlineData(1, 1, 1, 1, true)]
    [InlineData(2, 3, 7, 9, true)]
    public void Backward_MatchesFiniteDifferences(int threads, int rows, int c, int oc, bool bias)
    {
        var d = MakeData(rows, c, oc, bias, seed: 100 + rows + c + oc);
        var gInp = NumericalGradient(x => Dot(d.DOut, Reference(x, d.W, d.Bias, rows, c, oc)), d.Inp);
        var gW = NumericalGradient(w => Dot(d.DOut, Reference(d.Inp, w, d.Bias, rows, c, oc)), d.W);

        var r = Run(threads, d);

        AssertCloseToScale(gInp, r.DInp, 1e-4, "dinp");
        AssertCloseToScale(gW, r.DWeight, 1e-4, "dweight");
        if (d.Bias is not null)
        {
            var gB = NumericalGradient(b => Dot(d.DOut, Reference(d.Inp, d.W, b, rows, c, oc)), d.Bias);
            AssertCloseToScale(gB, r.DBias!, 1e-4, "dbias");
        }
    }

    /// <summary>A shape too large for finite differences to be quick, against the closed-form gradients in double.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Backward_LargerOddShape_MatchesDoubleGradients(int threads)
    {
        const int rows = 37, c = 291, oc = 67;
        var d = MakeData(rows, c, oc, bias: true, seed: 77);
        var gInp = new double[rows * c];
        var gW = new double[oc * c];
        var gB = new double[oc];
        for (int n = 0; n < rows; n++)
        {
            for (int j = 0; j < oc; j++)
            {
                double g = d.DOut[(n * oc) + j];
                gB[j] += g;
                for (int i = 0; i < c; i++)
                {
                    gInp[(n * c) + i] += g * d.W[(j * c) + i];
                    gW[(j * c) + i] += g * d.Inp[(n * c) + i];
                }
            }
        }

        var r = Run(threads, d);

        AssertCloseToScale(gInp, r.DInp, 1e-5, "dinp");
        AssertCloseToScale(gW, r.DWeight, 1e-5, "dweight");
        AssertCloseToScale(gB, r.DBias!, 1e-5, "dbias");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Backward_OverwritesDInp_AccumulatesDWeightAndDBias(int threads)
    {
        var d = MakeData(11, 20, 70, bias: true, seed: 3);
        var rng = new Random(4);
        var dw0 = RandomValues(rng, 70 * 20, -3, 3);
        var db0 = RandomValues(rng, 70, -3, 3);

        var fresh = Run(threads, d, dinpFill: 0f);
        var acc = Run(threads, d, dw0, db0, dinpFill: float.NaN);

        AssertBitIdentical(fresh.DInp, acc.DInp, "dinp (overwritten, NaN prefill ignored)");
        AssertClose(Add(dw0, ToDouble(fresh.DWeight)), acc.DWeight, 1e-6, 1e-5, "dweight (+=)");
        AssertClose(Add(db0, ToDouble(fresh.DBias!)), acc.DBias!, 1e-6, 1e-5, "dbias (+=)");
    }

    [Fact]
    public void Deterministic_AcrossRunsAndThreadCounts()
    {
        var d = MakeData(23, 29, 150, bias: true, seed: 8);
        var a = Run(1, d);
        foreach (var (threads, label) in new[] { (1, "1 thread, again"), (2, "2 threads"), (2, "2 threads, again") })
        {
            var b = Run(threads, d);
            AssertBitIdentical(a.Out, b.Out, $"out ({label})");
            AssertBitIdentical(a.DInp, b.DInp, $"dinp ({label})");
            AssertBitIdentical(a.DWeight, b.DWeight, $"dweight ({label})");
            AssertBitIdentical(a.DBias!, b.DBias!, $"dbias ({label})");
        }
    }
}
