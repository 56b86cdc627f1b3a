using SharpGpt.Gpu.Check;

namespace SharpGpt.Tests.Gpu;

/// <summary>Assertions over a <see cref="KernelTwin"/>'s comparisons.</summary>
internal static class TwinAssertions
{
    /// <summary>Asserts the two copies agree to within atol + rtol |cpu|.</summary>
    public static void AssertClose(this KernelTwin twin, FloatPair tensor, long n, double rtol, double atol, string what) =>
        Require(twin.Compare(what, tensor, n, rtol, atol));

    public static void AssertClose(this KernelTwin twin, Bf16Pair tensor, long n, double rtol, double atol, string what) =>
        Require(twin.Compare(what, tensor, n, rtol, atol));

    /// <summary>Asserts the two copies are bit for bit the same.</summary>
    public static void AssertEqual(this KernelTwin twin, FloatPair tensor, long n, string what) => Require(twin.Compare(what, tensor, n, 0, 0));

    private static void Require(TwinDifference difference) => Assert.True(difference.Passed, difference.ToString());
}
