namespace SharpGpt.Gpu.Blas;

/// <summary>cublasOperation_t: how a matrix operand is read.</summary>
internal enum BlasOperation
{
    /// <summary>CUBLAS_OP_N: as stored (column-major).</summary>
    None = 0,

    /// <summary>CUBLAS_OP_T: transposed.</summary>
    Transpose = 1,
}
