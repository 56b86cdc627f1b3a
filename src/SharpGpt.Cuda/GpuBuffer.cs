using ILGPU;
using ILGPU.Runtime;
using SharpGpt.Kernels;

namespace SharpGpt.Gpu;

/// <summary>A block of device memory, zeroed at allocation, known to the device's address space.</summary>
internal sealed unsafe class GpuBuffer : DeviceBuffer
{
    private readonly DeviceAddressSpace _addresses;
    private MemoryBuffer1D<float, Stride1D.Dense>? _buffer;
    private readonly ulong _address;

    public GpuBuffer(Accelerator accelerator, DeviceAddressSpace addresses, long floats)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(floats);
        _addresses = addresses;
        Length = floats;
        _buffer = accelerator.Allocate1D<float>(Math.Max(1, floats));
        _buffer.MemSetToZero();
        _address = addresses.Add(_buffer);
    }

    public override float* Pointer => (float*)_address;

    public override long Length { get; }

    protected override void Dispose(bool disposing)
    {
        if (_buffer is not null)
        {
            _addresses.Remove(_address);
            _buffer.Dispose();
            _buffer = null;
        }
    }
}
