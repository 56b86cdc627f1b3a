using ILGPU;
using ILGPU.Runtime;

namespace SharpGpt.Gpu;

/// <summary>
/// The device allocations by address, so that the pointers the backend seam passes around can be
/// turned back into ILGPU views (with bounds checked) and, on the emulated device, into host
/// memory. On a CUDA device an allocation's address is its device pointer. On the emulated device
/// it is a synthetic address outside the canonical x86-64 range: the host cannot read or write it
/// by mistake (that faults at once), just as it cannot a real GPU's memory.
/// </summary>
internal sealed unsafe class DeviceAddressSpace(bool synthetic)
{
    // Synthetic addresses start in the non-canonical hole of x86-64 and never touch host memory.
    private const ulong SyntheticBase = 0x1000_0000_0000_0000;
    private const ulong SyntheticAlignment = 1 << 20;

    private readonly List<Allocation> _allocations = []; // sorted by Base
    private readonly Lock _lock = new();
    private ulong _nextSynthetic = SyntheticBase;

    private readonly record struct Allocation(ulong Base, long Bytes, MemoryBuffer Buffer);

    /// <summary>Registers a buffer and returns its address.</summary>
    public ulong Add(MemoryBuffer buffer)
    {
        lock (_lock)
        {
            ulong address;
            if (synthetic)
            {
                address = _nextSynthetic;
                // Gaps between allocations, so running off one end does not land in the next.
                _nextSynthetic += ((ulong)buffer.LengthInBytes + (2 * SyntheticAlignment) - 1) / SyntheticAlignment * SyntheticAlignment;
            }
            else
            {
                address = (ulong)buffer.NativePtr;
            }

            var allocation = new Allocation(address, buffer.LengthInBytes, buffer);
            int i = _allocations.BinarySearch(allocation, ByBase.Instance);
            _allocations.Insert(i < 0 ? ~i : i, allocation);
            return address;
        }
    }

    public void Remove(ulong address)
    {
        lock (_lock)
        {
            int i = Find(address);
            _allocations.RemoveAt(i);
        }
    }

    /// <summary>A view of <paramref name="count"/> elements at <paramref name="address"/>; throws if they
    /// are not all inside one allocation or the address is not aligned to the element.</summary>
    public ArrayView<T> View<T>(void* address, long count)
        where T : unmanaged
    {
        var (allocation, offset) = Locate(address, count * sizeof(T));
        if (offset % sizeof(T) != 0)
        {
            throw new ArgumentException($"Device address 0x{(ulong)address:x} is not aligned to its {sizeof(T)}-byte elements.");
        }

        return new ArrayView<T>(allocation.Buffer, offset / sizeof(T), count);
    }

    /// <summary>A view from <paramref name="address"/> to the end of its allocation, for operands whose
    /// extent the caller does not know (an embedding table indexed by token).</summary>
    public ArrayView<T> ViewToEnd<T>(void* address)
        where T : unmanaged
    {
        var (allocation, offset) = Locate(address, 0);
        return View<T>(address, (allocation.Bytes - offset) / sizeof(T));
    }

    /// <summary>The host address of device memory; the emulated device's memory only (its buffers are the host's).</summary>
    public byte* HostAddress(void* address, long bytes)
    {
        var (allocation, offset) = Locate(address, bytes);
        return (byte*)allocation.Buffer.NativePtr + offset;
    }

    private (Allocation Allocation, long Offset) Locate(void* address, long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        lock (_lock)
        {
            var allocation = _allocations[Find((ulong)address)];
            long offset = (long)((ulong)address - allocation.Base);
            if (offset + bytes > allocation.Bytes)
            {
                throw new ArgumentOutOfRangeException(nameof(bytes),
                    $"{bytes} bytes at device address 0x{(ulong)address:x} run past the end of its {allocation.Bytes}-byte allocation (offset {offset}).");
            }

            return (allocation, offset);
        }
    }

    // The allocation whose range holds the address.
    private int Find(ulong address)
    {
        int lo = 0, hi = _allocations.Count - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_allocations[mid].Base <= address)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        if (found < 0 || address - _allocations[found].Base > (ulong)_allocations[found].Bytes)
        {
            throw new ArgumentException($"0x{address:x} is not an address of this device's memory.");
        }

        return found;
    }

    private sealed class ByBase : IComparer<Allocation>
    {
        public static readonly ByBase Instance = new();

        public int Compare(Allocation x, Allocation y) => x.Base.CompareTo(y.Base);
    }
}
