/*
 * A stand-in for libcublas.so with the entry points SharpGPT's Cublas binds, declared as cuBLAS's
 * documentation declares them, computing on host memory (see fake_cublaslt.c for why). It refuses
 * (CUBLAS_STATUS_INVALID_VALUE, 7) arguments SharpGPT never means to pass: another compute type or
 * algorithm, a non-fp32 output, operands of two types, a leading dimension below the rows stored.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elements.h"

enum { OK = 0, INVALID_VALUE = 7 };
enum { COMPUTE_32F = 68, GEMM_DEFAULT = -1 };

static void *bound_stream;
static size_t workspace_bytes;
static int math_mode = -1;
void *fake_stream(void) { return bound_stream; }
size_t fake_workspace_bytes(void) { return workspace_bytes; }
int fake_math_mode(void) { return math_mode; }

int cublasCreate_v2(void **handle) { *handle = malloc(1); return OK; }
int cublasDestroy_v2(void *handle) { free(handle); return OK; }
int cublasGetVersion_v2(void *handle, int *version) { (void)handle; *version = 130100; return OK; }
int cublasSetStream_v2(void *handle, void *stream) { (void)handle; bound_stream = stream; return OK; }
int cublasSetMathMode(void *handle, int mode) { (void)handle; math_mode = mode; return OK; }
int cublasSetWorkspace_v2(void *handle, void *workspace, size_t bytes)
{
    (void)handle;
    if (workspace == NULL) return INVALID_VALUE;
    workspace_bytes = bytes;
    return OK;
}

int cublasGemmStridedBatchedEx(void *handle, int transa, int transb, int m, int n, int k, const void *alpha,
                               const void *A, int Atype, int lda, long long strideA,
                               const void *B, int Btype, int ldb, long long strideB, const void *beta,
                               void *C, int Ctype, int ldc, long long strideC, int batchCount, int computeType, int algo)
{
    (void)handle;
    if (computeType != COMPUTE_32F || algo != GEMM_DEFAULT || Ctype != R_32F || Atype != Btype || (Atype != R_32F && Atype != R_16BF)
        || m < 0 || n < 0 || k < 0 || batchCount < 0 || lda < (transa ? k : m) || ldb < (transb ? n : k) || ldc < m
        || transa < 0 || transa > 1 || transb < 0 || transb > 1)
        return INVALID_VALUE;
    float a_ = *(const float *)alpha, b_ = *(const float *)beta;
    for (int batch = 0; batch < batchCount; batch++) {
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < m; i++) {
                float sum = 0;
                for (int p = 0; p < k; p++) {
                    float x = element(A, Atype, batch * strideA + (transa ? p + (int64_t)i * lda : i + (int64_t)p * lda));
                    float y = element(B, Btype, batch * strideB + (transb ? j + (int64_t)p * ldb : p + (int64_t)j * ldb));
                    sum += x * y;
                }
                float *c = (float *)C + batch * strideC + i + (int64_t)j * ldc;
                *c = b_ == 0 ? a_ * sum : a_ * sum + b_ * *c;
            }
        }
    }
    return OK;
}

int cublasGemmEx(void *handle, int transa, int transb, int m, int n, int k, const void *alpha,
                 const void *A, int Atype, int lda, const void *B, int Btype, int ldb, const void *beta,
                 void *C, int Ctype, int ldc, int computeType, int algo)
{
    return cublasGemmStridedBatchedEx(handle, transa, transb, m, n, k, alpha, A, Atype, lda, 0, B, Btype, ldb, 0, beta,
                                      C, Ctype, ldc, 0, 1, computeType, algo);
}
