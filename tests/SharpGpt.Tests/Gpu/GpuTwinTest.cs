using SharpGpt.Gpu.Check;
using SharpGpt.Kernels;

namespace SharpGpt.Tests.Gpu;

/// <summary>Base of the tests that run a GPU kernel on the emulated device against its CPU twin.</summary>
[Collection(EmulatedGpuCollection.Name)]
public abstract class GpuTwinTest(EmulatedGpu gpu) : IDisposable
{
    private readonly ParallelRunner _runner = new(2);

    protected EmulatedGpu Gpu => gpu;

    /// <summary>The CPU kernels and the emulated GPU's, with warps of 32 when <paramref name="nvidiaWarps"/>, else of 4.</summary>
    internal KernelTwin CreateTwin(bool nvidiaWarps = false) =>
        new(new CpuKernels(_runner), nvidiaWarps ? gpu.NvidiaShaped : gpu.Kernels);

    public void Dispose()
    {
        _runner.Dispose();
        GC.SuppressFinalize(this);
    }
}
