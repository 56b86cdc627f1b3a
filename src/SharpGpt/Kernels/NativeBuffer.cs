using System.Runtime.InteropServices;

namespace SharpGpt.Kernels;

/// <summary>
/// A 64-byte aligned block of unmanaged host floats (the CPU backend's <see cref="DeviceBuffer"/>), zeroed once at allocation so that the
/// first-touch page cost is paid up front and never inside a training step. Blocks of 2 MiB and
/// more are 2 MiB aligned and asked for transparent huge pages (Linux): the kernels walk
/// activations in rows many pages apart, and with 4 KiB pages most of those steps miss the TLB.
/// </summary>
internal sealed unsafe partial class NativeBuffer : DeviceBuffer
{
    private const nuint HugePage = 2 << 20;
    private const int MadviseHugePage = 14; // MADV_HUGEPAGE

    private float* _pointer;

    public NativeBuffer(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        nuint bytes = (nuint)Math.Max(1, length) * sizeof(float);
        if (bytes >= HugePage && OperatingSystem.IsLinux())
        {
            nuint rounded = (bytes + HugePage - 1) & ~(HugePage - 1);
            _pointer = (float*)NativeMemory.AlignedAlloc(rounded, HugePage);
            AdviseHugePages(_pointer, rounded);
        }
        else
        {
            _pointer = (float*)NativeMemory.AlignedAlloc(bytes, 64);
        }

        NativeMemory.Clear(Pointer, bytes);
    }

    public override float* Pointer => _pointer;

    public override long Length { get; }

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

    protected override void Dispose(bool disposing)
    {
        if (_pointer != null)
        {
            NativeMemory.AlignedFree(_pointer);
            _pointer = null;
        }
    }

    /// <summary>A hint only: where the kernel has no huge pages to give, the block keeps small ones.</summary>
    private static void AdviseHugePages(void* address, nuint bytes)
    {
        try
        {
            _ = Madvise(address, bytes, MadviseHugePage);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
        }
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(void* address, nuint length, int advice);
}
