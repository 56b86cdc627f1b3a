using SharpGpt.Devices;
using SharpGpt.Kernels;

namespace SharpGpt.Gpu;

/// <summary>What the engine finds by name (<see cref="GpuBackends.ProviderTypeName"/>) when a GPU device is asked for.</summary>
internal sealed class CudaBackendProvider : IGpuBackendProvider
{
    public IGpuBackend Create(DeviceKind kind, ParallelRunner runner)
    {
        var device = kind == DeviceKind.Cuda ? GpuDevice.CreateCuda() : GpuDevice.CreateEmulated();
        try
        {
            return new GpuBackend(device, new GpuKernels(device, runner, device.IsEmulated ? GpuKernels.EmulatedParameterLimit : 0));
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }
}
