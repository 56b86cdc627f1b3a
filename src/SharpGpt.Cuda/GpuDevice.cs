using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using SharpGpt.Devices;
using SharpGpt.Gpu.Blas;
using SharpGpt.Gpu.Cuda;

namespace SharpGpt.Gpu;

/// <summary>
/// One GPU as the backend sees it: an ILGPU accelerator (NVIDIA's through CUDA, or ILGPU's CPU
/// accelerator emulating one), its memory's address space, the BLAS its matrix products go to, and
/// the launch geometry the kernels use. The kernels are written for any warp size and any number
/// of groups (grid-stride loops), so the emulated device may run them with fewer, narrower warps:
/// ILGPU's CPU accelerator runs every GPU thread as an OS thread and makes each warp shuffle and
/// barrier a rendezvous of those threads, so warps of 32 cost about 1 ms a shuffle on two cores.
/// </summary>
internal sealed class GpuDevice : IDisposable
{
    private readonly Context _context;

    private GpuDevice(Context context, Accelerator accelerator, bool emulated, int groupSize, int maxGroups, Func<GpuDevice, IBlas> blas)
    {
        _context = context;
        Accelerator = accelerator;
        IsEmulated = emulated;
        Addresses = new DeviceAddressSpace(synthetic: emulated);
        WarpSize = accelerator.WarpSize;
        GroupSize = groupSize;
        MaxGroups = maxGroups;
        Blas = blas(this);
    }

    /// <summary>Warp and group shapes for the emulated device.</summary>
    public enum EmulatedShape
    {
        /// <summary>Warps of 32 in groups of 64: an NVIDIA GPU's warp, for fidelity (slow).</summary>
        Nvidia,

        /// <summary>Warps of 4 in groups of 32: the same kernels with cheap rendezvous, for whole runs.</summary>
        Compact,
    }

    /// <summary>A device on ILGPU's CPU accelerator with the emulated BLAS: the whole GPU code path, without a GPU.
    /// <paramref name="epilogues"/> off makes the BLAS decline epilogues, as cuBLAS without cuBLASLt.</summary>
    public static GpuDevice CreateEmulated(EmulatedShape shape = EmulatedShape.Compact, bool epilogues = true)
    {
        var (warp, warps) = shape == EmulatedShape.Nvidia ? (32, 2) : (4, 8);
        var context = Context.Create(builder => builder.CPU(new CPUDevice(warp, warps, 1)).Optimize(OptimizationLevel.O1));
        try
        {
            var accelerator = context.CreateCPUAccelerator(0);
            // Two groups at most: the emulator runs groups one after another, so more would only add rendezvous.
            return new GpuDevice(context, accelerator, emulated: true, groupSize: warp * warps, maxGroups: 2, device => new EmulatedBlas(device, epilogues));
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The first NVIDIA GPU, through ILGPU's CUDA accelerator, with cuBLAS on its context and stream.
    /// Throws <see cref="GpuUnavailableException"/>, saying what is missing and where it looked,
    /// when there is no driver, no device or no cuBLAS.
    /// </summary>
    public static GpuDevice CreateCuda()
    {
        CudaDriver.InstallResolver();
        var (driverVersion, devices, error) = CudaDriver.Probe();
        if (error is not null)
        {
            throw new GpuUnavailableException(error);
        }

        var (cublas, cublasLt, cublasPath) = CublasLibrary.Load(CudaLibraryPaths.ForThisMachine());
        var context = Context.Create(builder => builder.Cuda().Optimize(OptimizationLevel.O2));
        try
        {
            if (context.GetCudaDevices().Count == 0)
            {
                throw new GpuUnavailableException(
                    $"the driver (CUDA {driverVersion / 1000}.{driverVersion % 1000 / 10}) reports {devices} device(s), but ILGPU 1.5.3 can use none of them (an architecture or driver version it does not know?)");
            }

            // Creating the accelerator makes its context current on this thread; cuBLAS binds to it.
            var accelerator = context.CreateCudaAccelerator(0);
            nint stream = ((CudaStream)accelerator.DefaultStream).StreamPtr;
            const int groupSize = 256;
            return new GpuDevice(context, accelerator, emulated: false, groupSize, maxGroups: accelerator.NumMultiprocessors * 16,
                device => new Cublas(cublas, cublasLt, cublasPath, stream, new GpuBuffer(device.Accelerator, device.Addresses, Cublas.WorkspaceBytes / sizeof(float)),
                    epilogues: Environment.GetEnvironmentVariable("SHARPGPT_CUBLASLT") != "0", epiloguesOff: "off (SHARPGPT_CUBLASLT=0)"))
            {
                DriverVersion = driverVersion,
            };
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>The driver's CUDA version (e.g. 13000 for 13.0); 0 on the emulated device.</summary>
    public int DriverVersion { get; private init; }

    /// <summary>Compute capability, e.g. 9.0; null on the emulated device.</summary>
    public (int Major, int Minor)? ComputeCapability => Accelerator is CudaAccelerator cuda ? (cuda.Architecture.Major, cuda.Architecture.Minor) : null;

    /// <summary>Streaming multiprocessors (the emulator's: 1).</summary>
    public int Multiprocessors => Accelerator.NumMultiprocessors;

    /// <summary>Bytes of device memory.</summary>
    public long MemoryBytes => Accelerator.MemorySize;

    /// <summary>Bytes of device memory in use now (by every process), or 0 where the device cannot say (the emulator).</summary>
    public long MemoryInUse()
    {
        if (IsEmulated)
        {
            return 0;
        }

        Accelerator.Bind();
        var (free, total) = CudaDriver.MemoryInfo();
        return total - free;
    }

    internal Accelerator Accelerator { get; }

    internal DeviceAddressSpace Addresses { get; }

    internal IBlas Blas { get; }

    /// <summary>What the BLAS's epilogues have done so far, for gpu-check's report.</summary>
    public string EpilogueReport => Blas.EpilogueReport;

    public bool IsEmulated { get; }

    /// <summary>The device's name as ILGPU reports it.</summary>
    public string Name => Accelerator.Name;

    internal int WarpSize { get; }

    /// <summary>Threads per group of the row and element-wise kernels: a multiple of the warp size.</summary>
    internal int GroupSize { get; }

    /// <summary>The most groups a launch asks for; grid-stride loops cover the rest.</summary>
    internal int MaxGroups { get; }

    internal int WarpsPerGroup => GroupSize / WarpSize;

    /// <summary>A launch over n independent elements, one per thread per pass of a grid-stride loop.</summary>
    internal KernelConfig Elementwise(long n) =>
        new((int)Math.Clamp((n + GroupSize - 1) / GroupSize, 1, MaxGroups), GroupSize);

    /// <summary>A launch with one warp per row (grid-stride over rows).</summary>
    internal KernelConfig WarpPerRow(long rows) =>
        new((int)Math.Clamp((rows + WarpsPerGroup - 1) / WarpsPerGroup, 1, MaxGroups), GroupSize);

    public void Synchronize() => Accelerator.Synchronize();

    public void Dispose()
    {
        Blas.Dispose();
        Accelerator.Dispose();
        _context.Dispose();
    }
}
