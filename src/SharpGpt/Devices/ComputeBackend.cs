using SharpGpt.Kernels;

namespace SharpGpt.Devices;

/// <summary>
/// The kernels of the device a model runs on, and what it takes to run them: the CPU kernels on
/// the given threads, or a GPU backend from SharpGpt.Cuda (disposed with this). <c>auto</c> takes
/// an NVIDIA GPU when there is one with its libraries, else the CPU, and says why.
/// </summary>
internal sealed class ComputeBackend : IDisposable
{
    private readonly IGpuBackend? _gpu;
    private readonly string? _why;

    private ComputeBackend(DeviceKind kind, IGptKernels kernels, IGpuBackend? gpu, string? why)
    {
        Kind = kind;
        Kernels = kernels;
        _gpu = gpu;
        _why = why;
    }

    public DeviceKind Kind { get; }

    public IGptKernels Kernels { get; }

    /// <summary>Whether the kernels run on a GPU (or its emulation): one process, one model, device memory.</summary>
    public bool IsGpu => Kind != DeviceKind.Cpu;

    /// <summary>The GPU backend, or null on the CPU.</summary>
    public IGpuBackend? Gpu => _gpu;

    /// <param name="device">null for auto, else the device to run on.</param>
    /// <param name="runner">The CPU kernels' threads; on a GPU, the host's.</param>
    /// <param name="processRanks">mpirun's ranks: auto keeps several on the CPU, where the collectives are.</param>
    public static ComputeBackend Create(DeviceKind? device, ParallelRunner runner, int processRanks = 1)
    {
        if (device is DeviceKind kind)
        {
            return Create(kind, runner, why: null);
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
            return new ComputeBackend(kind, new CpuKernels(runner), null, why);
        }

        var provider = GpuBackends.Find()
            ?? throw new GpuUnavailableException($"the {DeviceNames.Of(kind)} device needs the SharpGpt.Cuda package, which this application does not reference");
        var gpu = provider.Create(kind, runner);
        return new ComputeBackend(kind, gpu.Kernels, gpu, why);
    }

    /// <summary>Bytes of GPU memory free now; null on the CPU and the emulated device.</summary>
    public long? FreeGpuMemoryBytes() => _gpu is { IsEmulated: false } gpu ? gpu.FreeMemoryBytes() : null;

    /// <summary>One line for the start of a command's output: which device, what it is, and why it was chosen.</summary>
    public string Describe()
    {
        string reason = _why is null ? "" : $" [{_why}]";
        return _gpu is null ? $"device: cpu{reason}" : $"device: {_gpu.Description}{reason}";
    }

    public void Dispose() => _gpu?.Dispose();
}
