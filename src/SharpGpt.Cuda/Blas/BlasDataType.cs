namespace SharpGpt.Gpu.Blas;

/// <summary>cudaDataType_t for the matrix operands; the values are CUDA's.</summary>
internal enum BlasDataType
{
    /// <summary>CUDA_R_32F.</summary>
    Float32 = 0,

    /// <summary>CUDA_R_16BF: bf16 stored as ushort (<see cref="SharpGpt.Kernels.BFloat16"/>).</summary>
    BFloat16 = 14,
}
