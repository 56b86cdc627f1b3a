using SharpGpt.Kernels;

namespace SharpGpt.Devices;

/// <summary>A GPU (or its emulation) with its kernels: what the SharpGpt.Cuda assembly hands the engine.</summary>
internal interface IGpuBackend : IDisposable
{
    /// <summary>The GPU kernels, on the device's memory.</summary>
    IGptKernels Kernels { get; }

    /// <summary>Whether this is the emulated device (ILGPU's CPU accelerator), not an NVIDIA GPU.</summary>
    bool IsEmulated { get; }

    /// <summary>The device in words, for the first line of a command's output.</summary>
    string Description { get; }

    /// <summary>Bytes of device memory free now, or null where the device cannot say (the emulator).</summary>
    long? FreeMemoryBytes();
}
