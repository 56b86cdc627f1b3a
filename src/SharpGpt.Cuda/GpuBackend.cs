using SharpGpt.Devices;
using SharpGpt.Kernels;

namespace SharpGpt.Gpu;

/// <summary>A <see cref="GpuDevice"/> and its <see cref="GpuKernels"/>, disposed together.</summary>
internal sealed class GpuBackend(GpuDevice device, GpuKernels kernels) : IGpuBackend
{
    public IGptKernels Kernels => kernels;

    public GpuKernels GpuKernels => kernels;

    public GpuDevice Device => device;

    public bool IsEmulated => device.IsEmulated;

    public string Description => device.IsEmulated
        ? $"cuda-emulated ({device.Name}, warps of {device.WarpSize} threads, {device.Blas.Name}): "
            + "the GPU code path run on the CPU, about 2,000x slower than the cpu device; models up to "
            + $"{GpuKernels.EmulatedParameterLimit / 1_000_000}M parameters"
        : $"cuda ({device.Name}, compute capability {device.ComputeCapability?.Major}.{device.ComputeCapability?.Minor}, "
            + $"{device.Multiprocessors} SMs, {device.MemoryBytes / (double)(1L << 30):F1} GiB; driver CUDA {device.DriverVersion / 1000}.{device.DriverVersion % 1000 / 10}; {device.Blas.Name})";

    public long? FreeMemoryBytes() => device.IsEmulated ? null : device.MemoryBytes - device.MemoryInUse();

    public void Dispose()
    {
        kernels.Dispose();
        device.Dispose();
    }
}
