using SharpGpt.Kernels;

namespace SharpGpt.Tests.Kernels;

public sealed unsafe class NativeBufferTests
{
    [Theory]
    [InlineData(1, 64)]
    [InlineData(1000, 64)]
    [InlineData((2 << 20) / sizeof(float), 2 << 20)] // exactly 2 MiB
    [InlineData(((3 << 20) / sizeof(float)) + 5, 2 << 20)] // not a whole number of huge pages
    public void IsZeroedAndAlignedForHugePagesFromTwoMebibytes(long length, long alignment)
    {
        using var buffer = new NativeBuffer(length);
        long expected = OperatingSystem.IsLinux() ? alignment : 64;
        Assert.Equal(0, (long)buffer.Pointer % expected);
        for (long i = 0; i < length; i += 997)
        {
            Assert.Equal(0f, buffer.Pointer[i]);
        }

        Assert.Equal(0f, buffer.Pointer[length - 1]);
        buffer.Pointer[length - 1] = 1f; // the whole length is writable
    }
}
