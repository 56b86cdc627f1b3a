using SharpGpt.Gpu;
using SharpGpt.Kernels;

namespace SharpGpt.Devices;

/// <summary>
/// The kernels of the device a command runs on, and what it takes to run them: the CPU kernels on
/// the command's threads, or the GPU backend on its device (disposed with this).
/// </summary>
public sealed class ComputeBackend : IDisposable
{
    private readonly GpuDevice? _device;
    private readonly GpuKernels? _gpu;

    private ComputeBackend(DeviceKind kind, IGptKernels kernels, GpuDevice? device, GpuKernels? gpu)
    {
        Kind = kind;
        Kernels = kernels;
        _device = device;
        _gpu = gpu;
    }

    public DeviceKind Kind { get; }

    public IGptKernels Kernels { get; }

    /// <summary>Whether the kernels run on a GPU (or its emulation): one process, one model, device memory.</summary>
    public bool IsGpu => Kind != DeviceKind.Cpu;

    /// <param name="runner">The CPU kernels' threads; on a GPU, the host's.</param>
    public static ComputeBackend Create(DeviceKind kind, ParallelRunner runner)
    {
        switch (kind)
        {
            case DeviceKind.Cpu:
                return new ComputeBackend(kind, new CpuKernels(runner), null, null);
            case DeviceKind.CudaEmulated:
                var device = GpuDevice.CreateEmulated();
                var gpu = new GpuKernels(device, runner, GpuKernels.EmulatedParameterLimit);
                return new ComputeBackend(kind, gpu, device, gpu);
            default:
                throw new ArgumentException("--device cuda: running on an NVIDIA GPU is not available in this build yet; --device cuda-emulated runs the same GPU code path on the CPU.");
        }
    }

    /// <summary>One line for the start of a command's output: which device and what it is.</summary>
    public string Describe() => Kind switch
    {
        DeviceKind.Cpu => "device: cpu",
        DeviceKind.CudaEmulated => $"device: cuda-emulated ({_device!.Name}, warps of {_device.WarpSize} threads, {_device.Blas.Name}): "
            + "the GPU code path run on the CPU, about 100x slower than --device cpu; models up to "
            + $"{GpuKernels.EmulatedParameterLimit / 1_000_000}M parameters",
        _ => $"device: {DeviceNames.Of(Kind)} ({_device!.Name})",
    };

    public void Dispose()
    {
        _gpu?.Dispose();
        _device?.Dispose();
    }
}
