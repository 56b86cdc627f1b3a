using System.Runtime.InteropServices;
using SharpGpt.Kernels;

namespace SharpGpt.Tests.Kernels;

/// <summary>
/// Shared helpers for the kernel tests: seeded inputs, a double-precision central finite-difference
/// gradient, and tolerance assertions whose messages say where, by how much and against which bound.
/// </summary>
internal static class KernelTestHelpers
{
    /// <summary>
    /// n values uniform in [min, max), rounded to float so that the float kernel and the double
    /// reference are evaluated at exactly the same point.
    /// </summary>
    public static double[] RandomValues(Random rng, int n, double min = -1, double max = 1)
    {
        var x = new double[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = (float)(min + ((max - min) * rng.NextDouble()));
        }

        return x;
    }

    public static float[] ToFloat(ReadOnlySpan<double> x)
    {
        var f = new float[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            f[i] = (float)x[i];
        }

        return f;
    }

    public static double[] ToDouble(ReadOnlySpan<float> x)
    {
        var d = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            d[i] = x[i];
        }

        return d;
    }

    /// <summary>Central differences (f(x + h e_i) - f(x - h e_i)) / 2h for every i, in double.</summary>
    public static double[] NumericalGradient(Func<double[], double> f, double[] x, double h = 1e-5)
    {
        var probe = (double[])x.Clone();
        var g = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double xi = probe[i];
            probe[i] = xi + h;
            double plus = f(probe);
            probe[i] = xi - h;
            double minus = f(probe);
            probe[i] = xi;
            g[i] = (plus - minus) / (2 * h);
        }

        return g;
    }

    /// <summary>sum(weights ⊙ values): with weights = dout this is the scalar whose gradient a backward computes.</summary>
    public static double Dot(ReadOnlySpan<double> weights, ReadOnlySpan<double> values)
    {
        Assert.Equal(weights.Length, values.Length);
        double s = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            s += weights[i] * values[i];
        }

        return s;
    }

    public static double[] Add(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        Assert.Equal(a.Length, b.Length);
        var s = new double[a.Length];
        for (int i = 0; i < a.Length; i++)
        {
            s[i] = a[i] + b[i];
        }

        return s;
    }

    public static double Rms(ReadOnlySpan<double> x)
    {
        if (x.IsEmpty)
        {
            return 0;
        }

        double s = 0;
        foreach (double v in x)
        {
            s += v * v;
        }

        return Math.Sqrt(s / x.Length);
    }

    /// <summary>Asserts |actual - expected| &lt;= atol + rtol |expected| element by element (NaN always fails).</summary>
    public static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, double rtol, double atol, string what)
    {
        var bounds = new double[expected.Length];
        for (int i = 0; i < bounds.Length; i++)
        {
            bounds[i] = atol + (rtol * Math.Abs(expected[i]));
        }

        AssertWithin(expected, actual, bounds, what, $"{atol:G3} + {rtol:G3}|expected|");
    }

    /// <summary>Asserts |actual[i] - expected[i]| &lt;= bounds[i], for error bounds derived element by element.</summary>
    public static void AssertWithin(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, ReadOnlySpan<double> bounds, string what, string boundDescription)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: length {actual.Length}, expected {expected.Length}");
        Assert.Equal(expected.Length, bounds.Length);
        int failures = 0, worst = -1;
        double worstRatio = 0, maxAbsErr = 0, maxRelErr = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i], err = Math.Abs(a - e);
            double bound = bounds[i];
            if (double.IsNaN(err) || err > bound)
            {
                failures++;
            }

            double ratio = double.IsNaN(err) ? double.PositiveInfinity : err / Math.Max(bound, double.Epsilon);
            if (worst < 0 || ratio > worstRatio)
            {
                worst = i;
                worstRatio = ratio;
            }

            maxAbsErr = Math.Max(maxAbsErr, err);
            if (e != 0)
            {
                maxRelErr = Math.Max(maxRelErr, err / Math.Abs(e));
            }
        }

        if (failures > 0)
        {
            Assert.Fail(
                $"{what}: {failures} of {expected.Length} elements outside |actual - expected| <= {boundDescription}. " +
                $"Worst at [{worst}]: expected {expected[worst]:G9}, actual {actual[worst]:G9}, |diff| {Math.Abs(actual[worst] - expected[worst]):G3} " +
                $"({worstRatio:G3}x the bound). Max abs error {maxAbsErr:G3}, max rel error {maxRelErr:G3}.");
        }
    }

    public static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, double rtol, double atol, string what)
        => AssertClose(expected, ToDouble(actual), rtol, atol, what);

    /// <summary>Relative tolerance plus the same tolerance on the array's RMS as an absolute floor, for entries near zero.</summary>
    public static void AssertCloseToScale(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, double tol, string what)
        => AssertClose(expected, ToDouble(actual), tol, tol * Rms(expected), what);

    /// <summary>Same bits (so +0 and -0 differ, and NaNs must match exactly).</summary>
    public static void AssertBitIdentical(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: length {actual.Length}, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            int e = BitConverter.SingleToInt32Bits(expected[i]), a = BitConverter.SingleToInt32Bits(actual[i]);
            if (e != a)
            {
                Assert.Fail($"{what}: not bit-identical at [{i}] of {expected.Length}: expected {expected[i]:G9} (0x{e:X8}), actual {actual[i]:G9} (0x{a:X8}).");
            }
        }
    }

    public static void AssertAllZero(ReadOnlySpan<float> x, string what)
    {
        for (int i = 0; i < x.Length; i++)
        {
            if (x[i] != 0f)
            {
                Assert.Fail($"{what}: expected 0 at [{i}] of {x.Length}, got {x[i]:G9}.");
            }
        }
    }

    public static void AssertGuardsIntact(params GuardedBuffer[] buffers)
    {
        foreach (var b in buffers)
        {
            b.AssertGuardsIntact();
        }
    }
}

/// <summary>
/// A 64-byte aligned native float buffer with sentinel zones on both sides, so a kernel that writes
/// past either end of a tensor (a vector tail, an off-by-one in a partition) is caught.
/// </summary>
internal sealed unsafe class GuardedBuffer : IDisposable
{
    private const int Guard = 16; // 64 bytes: keeps the data as aligned as a plain NativeBuffer
    private const uint SentinelBits = 0x7FC0_5A5Au; // a NaN with a payload no kernel computes
    private readonly NativeBuffer _buffer;

    public GuardedBuffer(string name, int length)
    {
        Name = name;
        Length = length;
        _buffer = new NativeBuffer(length + (2L * Guard));
        LowGuard.Fill(SentinelBits);
        HighGuard.Fill(SentinelBits);
    }

    public string Name { get; }

    public int Length { get; }

    public float* Pointer => _buffer.Pointer + Guard;

    public Span<float> Span => new(Pointer, Length);

    private Span<uint> LowGuard => MemoryMarshal.Cast<float, uint>(new Span<float>(_buffer.Pointer, Guard));

    private Span<uint> HighGuard => MemoryMarshal.Cast<float, uint>(new Span<float>(_buffer.Pointer + Guard + Length, Guard));

    public static GuardedBuffer From(string name, ReadOnlySpan<double> values)
    {
        var b = new GuardedBuffer(name, values.Length);
        b.Set(values);
        return b;
    }

    public static GuardedBuffer From(string name, ReadOnlySpan<float> values)
    {
        var b = new GuardedBuffer(name, values.Length);
        values.CopyTo(b.Span);
        return b;
    }

    public static GuardedBuffer Filled(string name, int length, float value)
    {
        var b = new GuardedBuffer(name, length);
        b.Span.Fill(value);
        return b;
    }

    public void Set(ReadOnlySpan<double> values)
    {
        Assert.Equal(Length, values.Length);
        var s = Span;
        for (int i = 0; i < values.Length; i++)
        {
            s[i] = (float)values[i];
        }
    }

    public float[] ToArray() => Span.ToArray();

    public double[] ToDoubles() => KernelTestHelpers.ToDouble(Span);

    public void AssertGuardsIntact()
    {
        for (int i = 0; i < Guard; i++)
        {
            Assert.True(LowGuard[i] == SentinelBits, $"{Name}: the kernel wrote {Guard - i} element(s) before the start of the buffer.");
            Assert.True(HighGuard[i] == SentinelBits, $"{Name}: the kernel wrote element [{Length + i}] past the end (length {Length}).");
        }
    }

    public void Dispose() => _buffer.Dispose();
}
