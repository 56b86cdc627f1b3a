namespace SharpGpt.Gpu;

/// <summary>
/// Device scratch the kernels need between their passes (partial sums, bf16 copies of gradients,
/// attention's head-major operands): one buffer, grown to the largest request and then reused, so
/// after the first step nothing is allocated. Each operation takes it whole for its duration.
/// </summary>
internal sealed unsafe class GpuWorkspace(GpuDevice device) : IDisposable
{
    private GpuBuffer? _buffer;

    /// <summary>At least <paramref name="floats"/> floats of scratch, valid until the next call.</summary>
    public float* Get(long floats)
    {
        if (_buffer is null || _buffer.Length < floats)
        {
            _buffer?.Dispose();
            _buffer = new GpuBuffer(device.Accelerator, device.Addresses, Math.Max(floats, 1024));
        }

        return _buffer.Pointer;
    }

    public long Floats => _buffer?.Length ?? 0;

    public void Dispose() => _buffer?.Dispose();
}
