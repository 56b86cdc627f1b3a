using SharpGpt.Kernels;

namespace SharpGpt.Devices;

/// <summary>Creates GPU backends. The SharpGpt.Cuda assembly implements it as
/// <see cref="GpuBackends.ProviderTypeName"/>; the engine finds it by that name, so an application
/// that only runs on the CPU need not ship ILGPU.</summary>
internal interface IGpuBackendProvider
{
    /// <summary>The NVIDIA GPU, or the emulated one. Throws <see cref="GpuUnavailableException"/>
    /// saying what is missing when there is no driver, device or cuBLAS.</summary>
    IGpuBackend Create(DeviceKind kind, ParallelRunner runner);
}
