using System.Text.Json.Serialization;

namespace SharpGpt.Devices;

/// <summary>What the kernels run on (<c>--device</c>).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DeviceKind>))]
internal enum DeviceKind
{
    /// <summary>The CPU kernels, on host memory.</summary>
    [JsonStringEnumMemberName("cpu")]
    Cpu,

    /// <summary>The GPU backend on an NVIDIA GPU: ILGPU kernels through CUDA, cuBLAS products.</summary>
    [JsonStringEnumMemberName("cuda")]
    Cuda,

    /// <summary>The GPU backend on ILGPU's CPU accelerator with the emulated BLAS: the GPU code path without a GPU.</summary>
    [JsonStringEnumMemberName("cuda-emulated")]
    CudaEmulated,
}
