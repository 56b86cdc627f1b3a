namespace SharpGpt.Gpu.Blas;

/// <summary>
/// Matrix products in cuBLAS's shape: column-major, operands at device addresses, fp32 or bf16
/// inputs (A and B of one type), fp32 accumulation (CUBLAS_COMPUTE_32F) and fp32 output.
/// C = alpha * op(A) * op(B) + beta * C, with op(A) m x k, op(B) k x n and C m x n; where beta is 0,
/// C is written without being read. Products are ordered with the device's kernels.
/// </summary>
internal unsafe interface IBlas : IDisposable
{
    /// <summary>What the products run on, for reports.</summary>
    string Name { get; }

    /// <summary>What the epilogues have done so far: shapes they ran, and any declined.</summary>
    string EpilogueReport { get; }

    /// <summary>cublasGemmEx.</summary>
    void GemmEx(BlasOperation transA, BlasOperation transB, int m, int n, int k, float alpha,
        void* a, BlasDataType aType, int lda, void* b, BlasDataType bType, int ldb, float beta, float* c, int ldc);

    /// <summary>cublasGemmStridedBatchedEx: batchCount products, operand i starting stride * i elements after the first.</summary>
    void GemmStridedBatchedEx(BlasOperation transA, BlasOperation transB, int m, int n, int k, float alpha,
        void* a, BlasDataType aType, int lda, long strideA, void* b, BlasDataType bType, int ldb, long strideB,
        float beta, float* c, int ldc, long strideC, int batchCount);

    /// <summary>
    /// cublasLtMatmul with an epilogue: D = epilogue(op(A) * op(B) + bias), the bias (m fp32 values)
    /// added to every column and D (fp32 or bf16) written without being read, in the product's own
    /// pass; with <see cref="BlasEpilogue.GeluAuxBias"/> the pre-activation goes to aux (D's type,
    /// leading dimension ldAux). False when this BLAS has no kernel for it (no cuBLASLt, or none for
    /// these shapes, types and alignments): the caller then does the epilogue's work itself.
    /// </summary>
    bool TryGemmEpilogue(BlasEpilogue epilogue, BlasOperation transA, BlasOperation transB, int m, int n, int k,
        void* a, BlasDataType abType, int lda, void* b, int ldb, void* d, BlasDataType dType, int ldd, float* bias, void* aux, int ldAux);
}
