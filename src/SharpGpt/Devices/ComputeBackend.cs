using SharpGpt.Gpu;
using SharpGpt.Kernels;

namespace SharpGpt.Devices;

/// <summary>
/// The kernels of the device a command runs on, and what it takes to run them: the CPU kernels on
/// the command's threads, or the GPU backend on its device (disposed with this). <c>auto</c> takes
/// an NVIDIA GPU when there is one with its libraries, else the CPU, and says why.
/// </summary>
public sealed class ComputeBackend : IDisposable
{
    /// <summary>What <c>--device</c> takes: auto or a <see cref="DeviceKind"/>'s name.</summary>
    public const string Auto = "auto";

    private readonly GpuDevice? _device;
    private readonly GpuKernels? _gpu;
    private readonly string? _why;

    private ComputeBackend(DeviceKind kind, IGptKernels kernels, GpuDevice? device, GpuKernels? gpu, string? why)
    {
        Kind = kind;
        Kernels = kernels;
        _device = device;
        _gpu = gpu;
        _why = why;
    }

    public DeviceKind Kind { get; }

    public IGptKernels Kernels { get; }

    /// <summary>Whether the kernels run on a GPU (or its emulation): one process, one model, device memory.</summary>
    public bool IsGpu => Kind != DeviceKind.Cpu;

    /// <summary>The GPU, or null on the CPU.</summary>
    public GpuDevice? Device => _device;

    /// <param name="device">auto, cpu, cuda or cuda-emulated.</param>
    /// <param name="runner">The CPU kernels' threads; on a GPU, the host's.</param>
    /// <param name="processRanks">mpirun's ranks: auto keeps several on the CPU, where the collectives are.</param>
    public static ComputeBackend Create(string device, ParallelRunner runner, int processRanks = 1)
    {
        if (device != Auto)
        {
            return Create(DeviceNames.Parse(device), runner, why: null);
        }

        if (processRanks > 1)
        {
            return Create(DeviceKind.Cpu, runner, why: $"auto: {processRanks} mpirun ranks train on the CPU");
        }

        try
        {
            return Create(DeviceKind.Cuda, runner, why: "auto: an NVIDIA GPU and cuBLAS were found");
        }
        catch (GpuUnavailableException e)
        {
            return Create(DeviceKind.Cpu, runner, why: $"auto: {e.Problem}");
        }
    }

    private static ComputeBackend Create(DeviceKind kind, ParallelRunner runner, string? why)
    {
        if (kind == DeviceKind.Cpu)
        {
            return new ComputeBackend(kind, new CpuKernels(runner), null, null, why);
        }

        var device = kind == DeviceKind.Cuda ? GpuDevice.CreateCuda() : GpuDevice.CreateEmulated();
        var gpu = new GpuKernels(device, runner, device.IsEmulated ? GpuKernels.EmulatedParameterLimit : 0);
        return new ComputeBackend(kind, gpu, device, gpu, why);
    }

    /// <summary>One line for the start of a command's output: which device, what it is, and why it was chosen.</summary>
    public string Describe()
    {
        string reason = _why is null ? "" : $" [{_why}]";
        return Kind switch
        {
            DeviceKind.Cpu => $"device: cpu{reason}",
            DeviceKind.CudaEmulated => $"device: cuda-emulated ({_device!.Name}, warps of {_device.WarpSize} threads, {_device.Blas.Name}): "
                + "the GPU code path run on the CPU, about 2,000x slower than --device cpu; models up to "
                + $"{GpuKernels.EmulatedParameterLimit / 1_000_000}M parameters{reason}",
            _ => $"device: cuda ({_device!.Name}, compute capability {_device.ComputeCapability?.Major}.{_device.ComputeCapability?.Minor}, "
                + $"{_device.Multiprocessors} SMs, {_device.MemoryBytes / (double)(1L << 30):F1} GiB; driver CUDA {_device.DriverVersion / 1000}.{_device.DriverVersion % 1000 / 10}; {_device.Blas.Name}){reason}",
        };
    }

    public void Dispose()
    {
        _gpu?.Dispose();
        _device?.Dispose();
    }
}
