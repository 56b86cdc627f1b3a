namespace SharpGpt.Kernels;

// Temporary naive GEMM; replaced by the packed kernel.
public static unsafe class Gemm
{
    public static void Sgemm(ParallelRunner runner, bool transA, bool transB, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate, float* bias = null)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float s = 0;
                for (int p = 0; p < k; p++)
                {
                    float av = transA ? a[((long)p * lda) + i] : a[((long)i * lda) + p];
                    float bv = transB ? b[((long)j * ldb) + p] : b[((long)p * ldb) + j];
                    s += av * bv;
                }

                if (bias != null)
                {
                    s += bias[j];
                }

                c[((long)i * ldc) + j] = accumulate ? c[((long)i * ldc) + j] + s : s;
            }
        }
    }
}
