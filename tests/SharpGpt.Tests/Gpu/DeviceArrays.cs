using SharpGpt.Kernels;

namespace SharpGpt.Tests.Gpu;

/// <summary>Host arrays into and out of a backend's memory, for tests that run a kernel on two backends.</summary>
internal static unsafe class DeviceArrays
{
    public static DeviceBuffer Upload(IGptKernels k, float[] data)
    {
        var buffer = k.Allocate(data.Length);
        k.Upload(buffer.Pointer, data.AsSpan());
        return buffer;
    }

    public static DeviceBuffer Upload(IGptKernels k, int[] data)
    {
        var buffer = k.Allocate(data.Length);
        k.Upload((int*)buffer.Pointer, data.AsSpan());
        return buffer;
    }

    public static float[] Random(Random rng, long n, float scale = 1f)
    {
        var x = new float[n];
        for (long i = 0; i < n; i++)
        {
            x[i] = (float)(((2 * rng.NextDouble()) - 1) * scale);
        }

        return x;
    }

    /// <summary>Asserts |actual - expected| &lt;= atol + rtol * |expected| everywhere, naming the first place it fails.</summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double rtol, double atol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            double bound = atol + (rtol * Math.Abs(e));
            if (!(Math.Abs(a - e) <= bound) && !(double.IsNaN(e) && double.IsNaN(a)))
            {
                Assert.Fail($"{what}: element {i} is {a}, expected {e} (difference {Math.Abs(a - e):G3}, allowed {bound:G3})");
            }
        }
    }
}
