namespace SharpGpt;

/// <summary>What a model's kernels run on.</summary>
public enum ComputeDevice
{
    /// <summary>An NVIDIA GPU when there is one with its driver and cuBLAS and the application references the
    /// SharpGpt.Cuda package, otherwise the CPU. <see cref="GptModel.DeviceDescription"/> says which, and why.</summary>
    Auto,

    /// <summary>The CPU kernels (AVX-512, AVX2 or portable SIMD) on the threads of <see cref="GptModelOptions.Threads"/>.</summary>
    Cpu,

    /// <summary>The first NVIDIA GPU (needs the SharpGpt.Cuda package, an NVIDIA driver and cuBLAS 12 or 13).</summary>
    Cuda,

    /// <summary>The GPU code path run on the CPU by ILGPU's CPU accelerator (needs SharpGpt.Cuda): for checking the
    /// GPU backend without a GPU. About 2,000 times slower than <see cref="Cpu"/>; models up to 20M parameters.</summary>
    CudaEmulated,
}
