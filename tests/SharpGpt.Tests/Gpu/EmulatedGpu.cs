using SharpGpt.Gpu;
using SharpGpt.Kernels;

namespace SharpGpt.Tests.Gpu;

/// <summary>
/// The emulated GPUs the GPU tests share (creating one compiles kernels anew): warps of 4
/// (<see cref="GpuDevice.EmulatedShape.Compact"/>) for most tests, and NVIDIA's warps of 32 for
/// the kernels' fidelity at a real warp size. The second declines the BLAS epilogues, so the twin
/// tests that run on it cover the backend's own bias and GELU kernels (what a cuBLAS without cuBLASLt gets).
/// </summary>
public sealed class EmulatedGpu : IDisposable
{
    private readonly Lazy<(GpuDevice Device, GpuKernels Kernels)> _nvidia;
    private readonly Lazy<(GpuDevice Device, GpuKernels Kernels)> _withoutEpilogues;

    public EmulatedGpu()
    {
        Runner = new ParallelRunner(1);
        Device = GpuDevice.CreateEmulated(GpuDevice.EmulatedShape.Compact);
        Kernels = new GpuKernels(Device, Runner);
        _nvidia = new(() =>
        {
            var device = GpuDevice.CreateEmulated(GpuDevice.EmulatedShape.Nvidia, epilogues: false);
            return (device, new GpuKernels(device, Runner));
        });
        _withoutEpilogues = new(() =>
        {
            var device = GpuDevice.CreateEmulated(GpuDevice.EmulatedShape.Compact, epilogues: false);
            return (device, new GpuKernels(device, Runner));
        });
    }

    internal ParallelRunner Runner { get; }

    internal GpuDevice Device { get; }

    internal GpuKernels Kernels { get; }

    /// <summary>An emulated device with warps of 32 and no BLAS epilogues, created on first use.</summary>
    internal GpuKernels NvidiaShaped => _nvidia.Value.Kernels;

    /// <summary>The device of <see cref="NvidiaShaped"/>.</summary>
    internal GpuDevice NvidiaShapedDevice => _nvidia.Value.Device;

    /// <summary>A compact emulated device whose BLAS declines the epilogues, for whole-model runs of the
    /// bias and GELU kernels a GPU without cuBLASLt uses; created on first use.</summary>
    internal GpuKernels WithoutEpilogues => _withoutEpilogues.Value.Kernels;

    public void Dispose()
    {
        foreach (var lazy in (Lazy<(GpuDevice Device, GpuKernels Kernels)>[])[_nvidia, _withoutEpilogues])
        {
            if (lazy.IsValueCreated)
            {
                lazy.Value.Kernels.Dispose();
                lazy.Value.Device.Dispose();
            }
        }

        Kernels.Dispose();
        Device.Dispose();
        Runner.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class EmulatedGpuCollection : ICollectionFixture<EmulatedGpu>
{
    public const string Name = "emulated GPU";
}
