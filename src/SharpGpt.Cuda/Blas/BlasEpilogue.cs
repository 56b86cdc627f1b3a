namespace SharpGpt.Gpu.Blas;

/// <summary>cublasLtEpilogue_t: what a product does to its result in the same pass, before storing it.</summary>
internal enum BlasEpilogue
{
    /// <summary>CUBLASLT_EPILOGUE_BIAS: D = A·B + bias, the bias (m fp32 values) added to every column.</summary>
    Bias = 4,

    /// <summary>CUBLASLT_EPILOGUE_GELU_AUX_BIAS: x = A·B + bias; the auxiliary matrix keeps x and D = GELU(x)
    /// (the tanh approximation), both in D's type.</summary>
    GeluAuxBias = 164,
}
