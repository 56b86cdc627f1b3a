namespace SharpGpt.Kernels;

/// <summary>
/// Floats of a backend's memory as the host sees them: the memory itself where the backend's memory
/// is the host's, else a staged copy that is read from the device when opened (if asked) and written
/// back when disposed (if asked). For bulk host work on parameters: loading, saving, initialising.
/// </summary>
internal sealed unsafe class HostView : IDisposable
{
    private readonly IDeviceMemory _memory;
    private readonly float* _device;
    private readonly bool _writeBack;
    private NativeBuffer? _staging;

    internal HostView(IDeviceMemory memory, float* device, long length, bool read, bool writeBack)
    {
        _memory = memory;
        _device = device;
        Length = length;
        if (memory.IsHostMemory)
        {
            Pointer = device;
            return;
        }

        _writeBack = writeBack;
        _staging = new NativeBuffer(length);
        Pointer = _staging.Pointer;
        if (read)
        {
            memory.CopyToHost(Pointer, device, length * sizeof(float));
        }
    }

    public float* Pointer { get; }

    public long Length { get; }

    public Span<float> Span => new(Pointer, checked((int)Length));

    public void Dispose()
    {
        if (_staging is null)
        {
            return;
        }

        if (_writeBack)
        {
            _memory.CopyToDevice(_device, Pointer, Length * sizeof(float));
        }

        _staging.Dispose();
        _staging = null;
    }
}
