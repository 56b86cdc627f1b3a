namespace SharpGpt.Kernels;

/// <summary>
/// The memory side of a kernel backend: where parameters, gradients, optimizer state and
/// activations live, and the copies between it and the host. Addresses are the backend's own (see
/// <see cref="DeviceBuffer"/>); copies and clears are ordered with the backend's kernels, and
/// <see cref="CopyToHost"/> returns once the data is on the host.
/// </summary>
internal unsafe interface IDeviceMemory
{
    /// <summary>True when the backend's memory is the host's, so its addresses may be dereferenced (the CPU backend).</summary>
    bool IsHostMemory { get; }

    /// <summary>A zeroed block of <paramref name="floats"/> floats (also used for ints, which have the same size).</summary>
    DeviceBuffer Allocate(long floats);

    void CopyToDevice(void* device, void* host, long bytes);

    void CopyToHost(void* host, void* device, long bytes);

    /// <summary>Copies within the backend's memory; the ranges must not overlap.</summary>
    void CopyOnDevice(void* destination, void* source, long bytes);

    void Clear(void* device, long bytes);

    /// <summary>Waits until every kernel and copy issued so far has finished (for timing).</summary>
    void Synchronize();
}
