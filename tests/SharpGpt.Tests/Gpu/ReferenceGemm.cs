using SharpGpt.Gpu.Blas;

namespace SharpGpt.Tests.Gpu;

/// <summary>cuBLAS's strided-batched GEMM as a naive loop in double, over host arrays in its column-major
/// terms: the yardstick of the emulated BLAS and of the bindings' stand-ins.</summary>
internal static class ReferenceGemm
{
    /// <summary>C after C = alpha * op(A) op(B) + beta * C for each batch; elements outside the m x n matrices keep their values.</summary>
    public static float[] StridedBatched(BlasOperation ta, BlasOperation tb, int m, int n, int k, float alpha, float[] a, int lda, long strideA,
        float[] b, int ldb, long strideB, float beta, float[] c, int ldc, long strideC, int batches)
    {
        float[] result = (float[])c.Clone();
        for (int batch = 0; batch < batches; batch++)
        {
            for (int j = 0; j < n; j++)
            {
                for (int i = 0; i < m; i++)
                {
                    double sum = 0;
                    for (int p = 0; p < k; p++)
                    {
                        double x = ta == BlasOperation.None ? a[(batch * strideA) + i + ((long)p * lda)] : a[(batch * strideA) + p + ((long)i * lda)];
                        double y = tb == BlasOperation.None ? b[(batch * strideB) + p + ((long)j * ldb)] : b[(batch * strideB) + j + ((long)p * ldb)];
                        sum += x * y;
                    }

                    long at = (batch * strideC) + i + ((long)j * ldc);
                    result[at] = (float)((alpha * sum) + (beta * c[at]));
                }
            }
        }

        return result;
    }
}
