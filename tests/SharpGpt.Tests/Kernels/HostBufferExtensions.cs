using SharpGpt.Kernels;

namespace SharpGpt.Tests.Kernels;

/// <summary>
/// Host access to a CPU backend's buffers, for tests that read and write a CPU model's memory
/// directly. A device's buffer has no host span: tests of a GPU backend go through the model's
/// host views instead, and taking a span of one fails here rather than reading device addresses.
/// </summary>
internal static class HostBufferExtensions
{
    extension(DeviceBuffer buffer)
    {
        public NativeBuffer Host => buffer as NativeBuffer
            ?? throw new InvalidOperationException($"A {buffer.GetType().Name} is a device's memory: read it through a host view.");

        public Span<float> Span => buffer.Host.Span;

        public Span<float> Slice(long offset, int length) => buffer.Host.Slice(offset, length);

        public void Clear() => buffer.Host.Clear();
    }
}
