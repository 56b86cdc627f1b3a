namespace SharpGpt.Devices;

/// <summary>Finds the GPU backend of the SharpGpt.Cuda assembly, when the application references it.</summary>
internal static class GpuBackends
{
    /// <summary>The provider's type, by assembly-qualified name.</summary>
    public const string ProviderTypeName = "SharpGpt.Gpu.CudaBackendProvider, SharpGpt.Cuda";

    private static readonly Lazy<IGpuBackendProvider?> Provider = new(() =>
        Type.GetType(ProviderTypeName, throwOnError: false) is { } type ? (IGpuBackendProvider?)Activator.CreateInstance(type) : null);

    /// <summary>The provider, or null when SharpGpt.Cuda is not part of the application.</summary>
    public static IGpuBackendProvider? Find() => Provider.Value;
}
