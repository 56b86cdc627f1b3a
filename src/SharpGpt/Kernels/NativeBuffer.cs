using System.Runtime.InteropServices;

namespace SharpGpt.Kernels;

/// <summary>
/// A 64-byte aligned block of unmanaged floats, zeroed once at allocation so that the
/// first-touch page cost is paid up front and never inside a training step.
/// </summary>
public sealed unsafe class NativeBuffer : IDisposable
{
    public NativeBuffer(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        nuint bytes = (nuint)Math.Max(1, length) * sizeof(float);
        Pointer = (float*)NativeMemory.AlignedAlloc(bytes, 64);
        NativeMemory.Clear(Pointer, bytes);
    }

    public float* Pointer { get; private set; }

    public long Length { get; }

    public Span<float> Span => new(Pointer, checked((int)Length));

    /// <summary>A span over part of the buffer; works for buffers larger than int.MaxValue elements.</summary>
    public Span<float> Slice(long offset, int length)
    {
        if (offset < 0 || length < 0 || offset + length > Length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset));
        }

        return new Span<float>(Pointer + offset, length);
    }

    public void Clear() => NativeMemory.Clear(Pointer, (nuint)Length * sizeof(float));

    public void Dispose()
    {
        if (Pointer != null)
        {
            NativeMemory.AlignedFree(Pointer);
            Pointer = null;
        }
    }
}
