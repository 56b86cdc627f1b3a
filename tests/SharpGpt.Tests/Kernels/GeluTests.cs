using SharpGpt.Kernels;
using static SharpGpt.Tests.Kernels.KernelTestHelpers;

namespace SharpGpt.Tests.Kernels;

public sealed unsafe class GeluTests
{
    private static readonly double[] Specials = [0, 1e-3, -1e-3, 0.5, -0.5, 1, -1, 3, -3, 5, -5, 10, -10, 20, -20, -30, 40];

    /// <summary>0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).</summary>
    private static double Reference(double x) => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + (0.044715 * x * x * x))));

    private static double[] Reference(double[] x) => Array.ConvertAll(x, Reference);

    /// <summary>The specials first (so some land in vector lanes and some in the scalar tail), then random values in [-6, 6].</summary>
    private static double[] MakeInput(int n, int seed)
    {
        var x = RandomValues(new Random(seed), n, -6, 6);
        for (int i = 0; i < Specials.Length && i < n; i++)
        {
            x[i] = Specials[i];
            x[n - 1 - i] = Specials[i];
        }

        return x;
    }

    /// <summary>The training forward (output and derivative), the backward from that derivative, and the inference forward's output.</summary>
    private static (float[] Out, float[] DInp, float[] InferenceOut) Run(int threads, double[] x, double[] dout)
    {
        using var runner = new ParallelRunner(threads);
        using var inp = GuardedBuffer.From("inp", x);
        using var d = GuardedBuffer.From("dout", dout);
        using var o = GuardedBuffer.Filled("out", x.Length, float.NaN);
        using var derivative = GuardedBuffer.Filled("derivative", x.Length, float.NaN);
        using var o2 = GuardedBuffer.Filled("inference out", x.Length, float.NaN);
        using var dinp = GuardedBuffer.Filled("dinp", x.Length, float.NaN); // overwritten, so the NaN must not survive
        Gelu.Forward(runner, o.Pointer, derivative.Pointer, inp.Pointer, x.Length);
        Gelu.Backward(runner, dinp.Pointer, derivative.Pointer, d.Pointer, x.Length);
        Gelu.Forward(runner, o2.Pointer, inp.Pointer, x.Length);
        AssertGuardsIntact(inp, d, o, derivative, o2, dinp);
        return (o.ToArray(), dinp.ToArray(), o2.ToArray());
    }

    [Theory]
    [InlineData(1, 203)]
    [InlineData(2, 203)]
    [InlineData(1, 5)]
    [InlineData(2, (2 * 4096) + 13)] // several blocks
    public void Forward_MatchesDoubleReference(int threads, int n)
    {
        var x = MakeInput(n, seed: n);
        var (o, _, inference) = Run(threads, x, new double[n]);
        AssertClose(Reference(x), o, 1e-5, 1e-6, "gelu(x)");
        AssertBitIdentical(o, inference, "gelu(x) without the derivative");
    }

    [Theory]
    [InlineData(1, 203)]
    [InlineData(2, 203)]
    [InlineData(1, 5)]
    public void Backward_MatchesFiniteDifferences(int threads, int n)
    {
        var x = MakeInput(n, seed: 10 + n);
        var dout = RandomValues(new Random(11 + n), n, -2, 2);
        var g = NumericalGradient(v => Dot(dout, Reference(v)), x);
        var (_, dinp, _) = Run(threads, x, dout);
        AssertClose(g, dinp, 1e-4, 1e-5, "dinp");
    }

    [Fact]
    public void Forward_MayWriteTheDerivativeOverItsInput()
    {
        // The training forward writes GELU'(x) over the pre-activation x, which the backward then reads.
        int n = 203;
        var x = MakeInput(n, seed: 5);
        var dout = RandomValues(new Random(6), n);
        using var runner = new ParallelRunner(2);
        using var inp = GuardedBuffer.From("inp", x);
        using var d = GuardedBuffer.From("dout", dout);
        using var o = GuardedBuffer.Filled("out", n, float.NaN);
        Gelu.Forward(runner, o.Pointer, inp.Pointer, inp.Pointer, n);
        Gelu.Backward(runner, d.Pointer, inp.Pointer, d.Pointer, n);
        AssertGuardsIntact(inp, d, o);
        var expected = Run(2, x, dout);
        AssertBitIdentical(expected.Out, o.Span, "out");
        AssertBitIdentical(expected.DInp, d.Span, "dinp written over dout");
    }

    [Fact]
    public void Backward_OverwritesDInp()
    {
        int n = 203;
        var x = MakeInput(n, seed: 1);
        var dout = RandomValues(new Random(2), n);
        using var runner = new ParallelRunner(1);
        using var inp = GuardedBuffer.From("inp", x);
        using var d = GuardedBuffer.From("dout", dout);
        using var o = GuardedBuffer.Filled("out", n, 0f);
        using var derivative = GuardedBuffer.Filled("derivative", n, 0f);
        using var dinp = GuardedBuffer.Filled("dinp", n, 123f);
        Gelu.Forward(runner, o.Pointer, derivative.Pointer, inp.Pointer, n);
        Gelu.Backward(runner, dinp.Pointer, derivative.Pointer, d.Pointer, n);
        var first = dinp.ToArray();
        Gelu.Backward(runner, dinp.Pointer, derivative.Pointer, d.Pointer, n);
        AssertBitIdentical(first, dinp.Span, "dinp after a second backward (must replace, not add)");
        Assert.Equal(Run(1, x, dout).DInp, first);
    }

    [Fact]
    public void Deterministic_AcrossRunsAndThreadCounts()
    {
        int n = (3 * 4096) + 7;
        var x = MakeInput(n, seed: 3);
        var dout = RandomValues(new Random(4), n);
        var a = Run(1, x, dout);
        foreach (var (threads, label) in new[] { (1, "1 thread, again"), (2, "2 threads"), (2, "2 threads, again") })
        {
            var b = Run(threads, x, dout);
            AssertBitIdentical(a.Out, b.Out, $"out ({label})");
            AssertBitIdentical(a.DInp, b.DInp, $"dinp ({label})");
        }
    }
}
