/*
 * A stand-in for libcublasLt.so with the entry points SharpGPT's CublasLt binds, declared as
 * cuBLASLt's documentation declares them, computing on host memory. CublasLtBindingTests compile it
 * with the system's C compiler and run the binding against it, so the argument order, the attribute
 * ids and sizes, the layouts of transposed operands, the heuristic's result struct and the alignment
 * preferences are checked without a GPU. It is stricter than the real library where that catches a
 * mistake: unknown attributes, sizes that do not match, and operands less aligned than the
 * preference the algorithm was chosen for are refused with CUBLAS_STATUS_INVALID_VALUE (7).
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elements.h"

enum { OK = 0, INVALID_VALUE = 7, NOT_SUPPORTED = 15 };
enum { COMPUTE_32F = 68, EPILOGUE_DEFAULT = 1, EPILOGUE_BIAS = 4, EPILOGUE_GELU_AUX_BIAS = 164 };
#define MAGIC 0x5eed5eedull

typedef struct { int transa, transb; uint32_t epilogue; const void *bias; int32_t biasType; void *aux; int64_t auxLd; } Desc;
typedef struct { int type; uint64_t rows, cols; int64_t ld; } Layout;
typedef struct { uint64_t workspace; uint32_t align[4]; } Pref;
typedef struct { uint64_t data[8]; } Algo;
typedef struct { Algo algo; size_t workspaceSize; int state; float wavesCount; int reserved[4]; } HeuristicResult;

static int calls_matmul;
int fake_matmul_calls(void) { return calls_matmul; }

int cublasLtCreate(void **handle) { *handle = malloc(1); return OK; }
int cublasLtDestroy(void *handle) { free(handle); return OK; }
size_t cublasLtGetVersion(void) { return 130102; }

int cublasLtMatmulDescCreate(Desc **desc, int computeType, int scaleType)
{
    if (computeType != COMPUTE_32F || scaleType != R_32F) return INVALID_VALUE;
    *desc = calloc(1, sizeof(Desc));
    (*desc)->epilogue = EPILOGUE_DEFAULT;
    (*desc)->biasType = -1;   /* the bias has D's type unless told otherwise */
    return OK;
}
int cublasLtMatmulDescDestroy(Desc *desc) { free(desc); return OK; }

int cublasLtMatmulDescSetAttribute(Desc *desc, int attribute, const void *buf, size_t size)
{
    switch (attribute) {
    case 3: if (size != sizeof(int32_t)) return INVALID_VALUE; desc->transa = *(const int32_t *)buf; return OK;
    case 4: if (size != sizeof(int32_t)) return INVALID_VALUE; desc->transb = *(const int32_t *)buf; return OK;
    case 7: if (size != sizeof(uint32_t)) return INVALID_VALUE; desc->epilogue = *(const uint32_t *)buf; return OK;
    case 8: if (size != sizeof(void *)) return INVALID_VALUE; desc->bias = *(const void *const *)buf; return OK;
    case 26: if (size != sizeof(int32_t)) return INVALID_VALUE; desc->biasType = *(const int32_t *)buf; return OK;
    case 11: if (size != sizeof(void *)) return INVALID_VALUE; desc->aux = *(void *const *)buf; return OK;
    case 12: if (size != sizeof(int64_t)) return INVALID_VALUE; desc->auxLd = *(const int64_t *)buf; return OK;
    default: return INVALID_VALUE;
    }
}

int cublasLtMatrixLayoutCreate(Layout **layout, int type, uint64_t rows, uint64_t cols, int64_t ld)
{
    if ((type != R_32F && type != R_16BF) || ld < (int64_t)rows) return INVALID_VALUE;
    *layout = malloc(sizeof(Layout));
    **layout = (Layout){ type, rows, cols, ld };
    return OK;
}
int cublasLtMatrixLayoutDestroy(Layout *layout) { free(layout); return OK; }

int cublasLtMatmulPreferenceCreate(Pref **pref)
{
    *pref = calloc(1, sizeof(Pref));
    for (int i = 0; i < 4; i++) (*pref)->align[i] = 256;
    return OK;
}
int cublasLtMatmulPreferenceDestroy(Pref *pref) { free(pref); return OK; }

int cublasLtMatmulPreferenceSetAttribute(Pref *pref, int attribute, const void *buf, size_t size)
{
    if (attribute == 1 && size == sizeof(uint64_t)) { pref->workspace = *(const uint64_t *)buf; return OK; }
    if (attribute >= 5 && attribute <= 8 && size == sizeof(uint32_t)) { pref->align[attribute - 5] = *(const uint32_t *)buf; return OK; }
    return INVALID_VALUE;
}

static void op_shape(const Layout *l, int trans, uint64_t *rows, uint64_t *cols)
{
    *rows = trans ? l->cols : l->rows;
    *cols = trans ? l->rows : l->cols;
}

int cublasLtMatmulAlgoGetHeuristic(void *handle, Desc *desc, Layout *a, Layout *b, Layout *c, Layout *d, Pref *pref,
                                   int requested, HeuristicResult *results, int *returned)
{
    uint64_t m, k, k2, n;
    (void)handle;
    *returned = 0;
    op_shape(a, desc->transa, &m, &k);
    op_shape(b, desc->transb, &k2, &n);
    if (requested < 1 || k != k2 || c->rows != m || c->cols != n || memcmp(c, d, sizeof(Layout)) != 0
        || a->type != b->type || c->type != d->type || (desc->epilogue != EPILOGUE_DEFAULT && desc->bias == NULL)
        || (desc->epilogue == EPILOGUE_GELU_AUX_BIAS && (desc->aux == NULL || desc->auxLd < (int64_t)m)))
        return INVALID_VALUE;
    if (desc->epilogue != EPILOGUE_DEFAULT && desc->epilogue != EPILOGUE_BIAS && desc->epilogue != EPILOGUE_GELU_AUX_BIAS)
        return NOT_SUPPORTED;
    /* Like the tensor-core kernels: nothing for operands aligned to less than 16 bytes. */
    if (pref->align[0] < 16 || pref->align[1] < 16 || pref->align[2] < 16 || pref->workspace < 4096)
        return NOT_SUPPORTED;
    memset(results, 0, sizeof(HeuristicResult));
    results[0].algo.data[0] = MAGIC;
    results[0].algo.data[1] = m;
    for (int i = 0; i < 3; i++) results[0].algo.data[2 + i] = pref->align[i];
    results[0].workspaceSize = 4096;
    *returned = 1;
    return OK;
}

int cublasLtMatmul(void *handle, Desc *desc, const float *alpha, const void *A, Layout *a, const void *B, Layout *b,
                   const float *beta, const void *C, Layout *c, void *D, Layout *d, const Algo *algo,
                   void *workspace, size_t workspaceSize, void *stream)
{
    uint64_t m, k, k2, n;
    (void)handle; (void)stream;
    op_shape(a, desc->transa, &m, &k);
    op_shape(b, desc->transb, &k2, &n);
    if (algo == NULL || algo->data[0] != MAGIC || algo->data[1] != m || workspace == NULL || workspaceSize < 4096
        || (uintptr_t)A % algo->data[2] != 0 || (uintptr_t)B % algo->data[3] != 0 || (uintptr_t)D % algo->data[4] != 0
        || memcmp(c, d, sizeof(Layout)) != 0)
        return INVALID_VALUE;
    calls_matmul++;
    for (uint64_t j = 0; j < n; j++) {
        for (uint64_t i = 0; i < m; i++) {
            float sum = 0;
            for (uint64_t p = 0; p < k; p++) {
                float x = element(A, a->type, desc->transa ? p + i * a->ld : i + p * a->ld);
                float y = element(B, b->type, desc->transb ? j + p * b->ld : p + j * b->ld);
                sum += x * y;
            }
            float value = *alpha * sum;
            if (*beta != 0) value += *beta * element(C, c->type, i + j * c->ld);
            if (desc->epilogue != EPILOGUE_DEFAULT) value += element(desc->bias, desc->biasType == -1 ? d->type : desc->biasType, i);
            if (desc->epilogue == EPILOGUE_GELU_AUX_BIAS) {
                store(desc->aux, d->type, i + j * desc->auxLd, value);
                value = 0.5f * value * (1.0f + tanhf(0.7978845608f * (value + 0.044715f * value * value * value)));
            }
            store(D, d->type, i + j * d->ld, value);
        }
    }
    return OK;
}
