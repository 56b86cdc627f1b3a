using SharpGpt.Kernels;
using static SharpGpt.Tests.Kernels.KernelTestHelpers;

namespace SharpGpt.Tests.Kernels;

public sealed unsafe class EncoderTests
{
    /// <summary>wte has Vp rows (only the first V are ever used as ids), wpe has MaxT &gt; T rows.</summary>
    private sealed record Data(int B, int T, int C, int V, int Vp, int MaxT, int[] Ids, double[] Wte, double[] Wpe, double[] DOut);

    private sealed record Result(float[] Out, float[] DWte, float[] DWpe);

    /// <summary>out[b,t,:] = wte[id[b,t],:] + wpe[t,:].</summary>
    private static double[] Reference(int[] ids, double[] wte, double[] wpe, int b, int t, int c)
    {
        var o = new double[b * t * c];
        for (int bt = 0; bt < b * t; bt++)
        {
            for (int i = 0; i < c; i++)
            {
                o[(bt * c) + i] = wte[(ids[bt] * c) + i] + wpe[(bt % t * c) + i];
            }
        }

        return o;
    }

    private static Data MakeData(int b, int t, int c, int seed)
    {
        const int v = 9, vp = 16;
        int maxT = t + 3;
        var rng = new Random(seed);
        var ids = new int[b * t];
        for (int i = 0; i < ids.Length; i++)
        {
            // Few distinct ids, so tokens repeat within and across sequences; id 4 never occurs.
            ids[i] = rng.Next(0, 4) switch { 0 => 0, 1 => 3, 2 => v - 1, _ => rng.Next(0, 4) };
        }

        ids[0] = 3;
        ids[^1] = 3;
        return new Data(b, t, c, v, vp, maxT, ids, RandomValues(rng, vp * c), RandomValues(rng, maxT * c), RandomValues(rng, b * t * c));
    }

    private static Result Run(int threads, Data d, double[]? dwte0 = null, double[]? dwpe0 = null)
    {
        using var runner = new ParallelRunner(threads);
        using var wte = GuardedBuffer.From("wte", d.Wte);
        using var wpe = GuardedBuffer.From("wpe", d.Wpe);
        using var dout = GuardedBuffer.From("dout", d.DOut);
        using var o = GuardedBuffer.Filled("out", d.B * d.T * d.C, float.NaN);
        using var dwte = GuardedBuffer.From("dwte", dwte0 ?? new double[d.Vp * d.C]);
        using var dwpe = GuardedBuffer.From("dwpe", dwpe0 ?? new double[d.MaxT * d.C]);
        fixed (int* ids = d.Ids)
        {
            Encoder.Forward(runner, o.Pointer, ids, wte.Pointer, wpe.Pointer, d.B, d.T, d.C);
            Encoder.Backward(runner, dwte.Pointer, dwpe.Pointer, dout.Pointer, ids, d.B, d.T, d.C);
        }

        AssertGuardsIntact(wte, wpe, dout, o, dwte, dwpe);
        return new Result(o.ToArray(), dwte.ToArray(), dwpe.ToArray());
    }

    [Theory]
    [InlineData(1, 2, 7, 20)]
    [InlineData(2, 2, 7, 20)]
    [InlineData(2, 3, 13, 12)]
    [InlineData(1, 1, 5, 5)]
    [InlineData(2, 2, 3, 8)]
    public void Forward_IsTheCorrectlyRoundedSum(int threads, int b, int t, int c)
    {
        var d = MakeData(b, t, c, seed: b + t + c);
        var r = Run(threads, d);
        AssertBitIdentical(ToFloat(Reference(d.Ids, d.Wte, d.Wpe, b, t, c)), r.Out, "out");
    }

    [Theory]
    [InlineData(1, 2, 7, 20)]
    [InlineData(2, 2, 7, 20)]
    [InlineData(2, 3, 13, 12)]
    [InlineData(1, 1, 5, 5)]
    [InlineData(2, 2, 3, 37)]
    public void Backward_MatchesFiniteDifferences(int threads, int b, int t, int c)
    {
        var d = MakeData(b, t, c, seed: 50 + b + t + c);
        var gWte = NumericalGradient(w => Dot(d.DOut, Reference(d.Ids, w, d.Wpe, b, t, c)), d.Wte);
        var gWpe = NumericalGradient(w => Dot(d.DOut, Reference(d.Ids, d.Wte, w, b, t, c)), d.Wpe);

        var r = Run(threads, d);

        AssertCloseToScale(gWte, r.DWte, 1e-5, "dwte");
        AssertCloseToScale(gWpe, r.DWpe, 1e-5, "dwpe");

        // Rows no token or position touches stay exactly zero: id 4, the padded rows V..Vp-1, positions T..maxT-1.
        AssertAllZero(r.DWte.AsSpan(4 * c, c), "dwte row of an unused id");
        AssertAllZero(r.DWte.AsSpan(d.V * c), "dwte padded rows");
        AssertAllZero(r.DWpe.AsSpan(t * c), "dwpe rows past T");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Backward_AccumulatesIntoDWteAndDWpe(int threads)
    {
        var d = MakeData(2, 7, 20, seed: 8);
        var rng = new Random(9);
        var dwte0 = RandomValues(rng, d.Vp * d.C, -3, 3);
        var dwpe0 = RandomValues(rng, d.MaxT * d.C, -3, 3);
        var fresh = Run(threads, d);
        var acc = Run(threads, d, dwte0, dwpe0);
        AssertClose(Add(dwte0, ToDouble(fresh.DWte)), acc.DWte, 1e-6, 1e-6, "dwte (+=)");
        AssertClose(Add(dwpe0, ToDouble(fresh.DWpe)), acc.DWpe, 1e-6, 1e-6, "dwpe (+=)");
        AssertBitIdentical(ToFloat(dwte0.AsSpan(d.V * d.C)), acc.DWte.AsSpan(d.V * d.C), "untouched padded dwte rows keep their value");
    }

    [Fact]
    public void Deterministic_AcrossRunsAndThreadCounts()
    {
        var d = MakeData(4, 13, 37, seed: 12);
        var a = Run(1, d);
        foreach (var (threads, label) in new[] { (1, "1 thread, again"), (2, "2 threads"), (2, "2 threads, again") })
        {
            var b = Run(threads, d);
            AssertBitIdentical(a.Out, b.Out, $"out ({label})");
            AssertBitIdentical(a.DWte, b.DWte, $"dwte ({label})");
            AssertBitIdentical(a.DWpe, b.DWpe, $"dwpe ({label})");
        }
    }
}
