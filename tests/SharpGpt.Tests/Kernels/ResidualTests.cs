using SharpGpt.Kernels;
using static SharpGpt.Tests.Kernels.KernelTestHelpers;

namespace SharpGpt.Tests.Kernels;

public sealed unsafe class ResidualTests
{
    private static (float[] Out, float[] DA, float[] DB) Run(int threads, double[] a, double[] b, double[] dout, double[] da0, double[] db0)
    {
        using var runner = new ParallelRunner(threads);
        using var pa = GuardedBuffer.From("a", a);
        using var pb = GuardedBuffer.From("b", b);
        using var d = GuardedBuffer.From("dout", dout);
        using var o = GuardedBuffer.Filled("out", a.Length, float.NaN);
        using var da = GuardedBuffer.From("da", da0);
        using var db = GuardedBuffer.From("db", db0);
        Residual.Forward(runner, o.Pointer, pa.Pointer, pb.Pointer, a.Length);
        Residual.Backward(runner, da.Pointer, db.Pointer, d.Pointer, a.Length);
        AssertGuardsIntact(pa, pb, d, o, da, db);
        return (o.ToArray(), da.ToArray(), db.ToArray());
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 37)]
    [InlineData(2, 37)]
    [InlineData(2, (2 * 8192) + 13)] // several blocks
    public void Forward_IsTheCorrectlyRoundedSum(int threads, int n)
    {
        var rng = new Random(n);
        var a = RandomValues(rng, n, -4, 4);
        var b = RandomValues(rng, n, -4, 4);
        var (o, _, _) = Run(threads, a, b, new double[n], new double[n], new double[n]);

        // A sum of two floats is exact in double, so rounding it once gives the one correct float answer.
        AssertBitIdentical(ToFloat(Add(a, b)), o, "a + b");
    }

    [Theory]
    [InlineData(1, 37)]
    [InlineData(2, 37)]
    public void Backward_MatchesFiniteDifferences(int threads, int n)
    {
        var rng = new Random(n + 1);
        var a = RandomValues(rng, n);
        var b = RandomValues(rng, n);
        var dout = RandomValues(rng, n);
        var ga = NumericalGradient(x => Dot(dout, Add(x, b)), a);
        var gb = NumericalGradient(x => Dot(dout, Add(a, x)), b);
        var (_, da, db) = Run(threads, a, b, dout, new double[n], new double[n]);
        AssertClose(ga, da, 1e-7, 1e-9, "da");
        AssertClose(gb, db, 1e-7, 1e-9, "db");
    }

    [Theory]
    [InlineData(1, 37)]
    [InlineData(2, (2 * 8192) + 13)]
    public void Backward_AccumulatesIntoBothInputs(int threads, int n)
    {
        var rng = new Random(n + 2);
        var dout = RandomValues(rng, n);
        var da0 = RandomValues(rng, n, -3, 3);
        var db0 = RandomValues(rng, n, -3, 3);
        var (_, da, db) = Run(threads, new double[n], new double[n], dout, da0, db0);
        AssertBitIdentical(ToFloat(Add(da0, dout)), da, "da (+=)");
        AssertBitIdentical(ToFloat(Add(db0, dout)), db, "db (+=)");
    }

    [Fact]
    public void Deterministic_AcrossRunsAndThreadCounts()
    {
        int n = (3 * 8192) + 5;
        var rng = new Random(9);
        var a = RandomValues(rng, n);
        var b = RandomValues(rng, n);
        var dout = RandomValues(rng, n);
        var da0 = RandomValues(rng, n);
        var first = Run(1, a, b, dout, da0, da0);
        foreach (var (threads, label) in new[] { (1, "1 thread, again"), (2, "2 threads"), (2, "2 threads, again") })
        {
            var r = Run(threads, a, b, dout, da0, da0);
            AssertBitIdentical(first.Out, r.Out, $"out ({label})");
            AssertBitIdentical(first.DA, r.DA, $"da ({label})");
            AssertBitIdentical(first.DB, r.DB, $"db ({label})");
        }
    }
}
