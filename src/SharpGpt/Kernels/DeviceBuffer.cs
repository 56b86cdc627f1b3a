namespace SharpGpt.Kernels;

/// <summary>
/// A block of floats a kernel backend owns (<see cref="IDeviceMemory.Allocate"/>): host memory for
/// the CPU backend (<see cref="NativeBuffer"/>), device memory for a GPU. <see cref="Pointer"/> is an
/// address in the backend's memory: pointer arithmetic on it is fine and kernels take it, but only
/// a backend whose <see cref="IDeviceMemory.IsHostMemory"/> is true may have it read or written by
/// the host; everyone else goes through the backend's copies.
/// </summary>
internal abstract unsafe class DeviceBuffer : IDisposable
{
    public abstract float* Pointer { get; }

    /// <summary>Length in floats.</summary>
    public abstract long Length { get; }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected abstract void Dispose(bool disposing);
}
