using SharpGpt.Model;

namespace SharpGpt.Kernels;

/// <summary>
/// The operations a GPT-2 forward and backward, its optimizer and its inference are made of, and
/// the memory they run on (<see cref="IDeviceMemory"/>). Pointers address memory the backend owns
/// (allocated through it); the host reads and writes it only through the backend's copies unless
/// <see cref="IDeviceMemory.IsHostMemory"/>. A GPU backend replaces the whole set. Backward methods
/// accumulate (+=) into parameter gradients; where an input gradient is overwritten rather than
/// accumulated, the method says so.
/// </summary>
internal unsafe interface IGptKernels : IDeviceMemory
{
    /// <summary>The host threads: the CPU kernels' workers; on a GPU, host-side work only.</summary>
    ParallelRunner Runner { get; }

    /// <summary>Throws, saying why, when this backend will not run a model of this many parameters.</summary>
    void CheckModelSize(long parameters)
    {
    }

    // (N,C) <- ids (N), wte (Vp,C), wpe (maxT,C)
    void EncoderForward(float* output, int* inputs, float* wte, float* wpe, int b, int t, int c);

    void EncoderBackward(float* dwte, float* dwpe, float* dout, int* inputs, int b, int t, int c);

    // (N,C) fp32 or bf16, mean (N), rstd (N) <- (N,C)
    void LayerNormForward(TypedPointer output, float* mean, float* rstd, float* inp, float* weight, float* bias, int rows, int c);

    // residual (N,C), out (N,C) fp32 or bf16, mean (N), rstd (N) <- a (N,C), b (N,C): residual = a + b, then LayerNorm
    void LayerNormResidualForward(float* residual, TypedPointer output, float* mean, float* rstd, float* a, float* b, float* weight, float* bias, int rows, int c)
    {
        ResidualForward(residual, a, b, (long)rows * c);
        LayerNormForward(output, mean, rstd, residual, weight, bias, rows, c);
    }

    void LayerNormBackward(float* dinp, float* dweight, float* dbias, float* dout, float* inp, float* weight, float* mean, float* rstd, int rows, int c);

    // (N,OC) <- (N,C) · (OC,C)^T + (OC); inp and weight fp32 or bf16
    void MatmulForward(float* output, TypedPointer inp, TypedPointer weight, float* bias, int rows, int c, int oc);

    /// <summary>dinp is overwritten; dweight and dbias accumulate.</summary>
    void MatmulBackward(float* dinp, float* dweight, float* dbias, float* dout, TypedPointer inp, TypedPointer weight, int rows, int c, int oc);

    // geluState (N,OC floats), out (N,OC) fp32 or bf16 <- (N,C) · (OC,C)^T + (OC); out = GELU(x); inp and weight fp32 or bf16.
    // geluState is what this backend's MatmulGeluBackward needs of x: by default (the CPU) GELU'(x); the GPU keeps x.
    void MatmulGeluForward(float* geluState, TypedPointer output, TypedPointer inp, TypedPointer weight, float* bias, int rows, int c, int oc)
    {
        MatmulForward(geluState, inp, weight, bias, rows, c, oc);
        GeluForward(output, geluState, geluState, (long)rows * oc);
    }

    /// <summary>MatmulBackward for an input inp = GELU(x): dx = (dout · W) ∘ GELU'(x), overwritten, from the
    /// geluState MatmulGeluForward kept.</summary>
    void MatmulGeluBackward(float* dx, float* dweight, float* dbias, float* dout, TypedPointer inp, float* geluState, TypedPointer weight, int rows, int c, int oc)
    {
        MatmulBackward(dx, dweight, dbias, dout, inp, weight, rows, c, oc);
        GeluBackward(dx, geluState, dx, (long)rows * c);
    }

    /// <summary>Floats of logits the classifier computes at a time (whole rows of the padded vocabulary):
    /// big enough that the lm_head products stay efficient, small enough that the logits of a whole
    /// batch are never held at once. 64 MiB suits a CPU's caches and memory.</summary>
    long ClassifierChunkFloats => 16L << 20;

    /// <summary>Bytes of scratch the backend allocates for itself (on first use) to run a (B, T) batch of
    /// this model, beyond the model's own buffers; counted by the memory planner.</summary>
    long WorkspaceBytes(GptConfig config, int b, int t, Precision precision) => 0;

    /// <summary>Floats of saved state the attention forward needs per layer for a (B, T) batch. The
    /// precision is the model's: a backend may run attention's products in bf16 for a bf16 model (the
    /// GPU does, on tensor cores); the CPU's attention is fp32 either way.</summary>
    long AttentionStateSize(int b, int t, int nh, Precision precision = Precision.Fp32);

    /// <summary>Floats of scratch the attention backward needs (shared by all layers).</summary>
    long AttentionScratchSize(int b, int t, int c, int nh, Precision precision = Precision.Fp32);

    // (B,T,C), state <- qkv (B,T,3C)
    void AttentionForward(float* output, float* state, float* qkv, int b, int t, int c, int nh, Precision precision = Precision.Fp32);

    /// <summary>dqkv is overwritten.</summary>
    void AttentionBackward(float* dqkv, float* scratch, float* dout, float* qkv, float* output, float* state, int b, int t, int c, int nh, Precision precision = Precision.Fp32);

    // (N) fp32 or bf16 <- (N)
    void GeluForward(TypedPointer output, float* inp, long n);

    // out (N) fp32 or bf16, derivative (N) = GELU'(inp) <- inp (N); derivative may be inp
    void GeluForward(TypedPointer output, float* derivative, float* inp, long n);

    /// <summary>dinp = derivative ∘ dout, with the derivative GELU'(x) from the forward; dinp is overwritten.</summary>
    void GeluBackward(float* dinp, float* derivative, float* dout, long n);

    void ResidualForward(float* output, float* a, float* b, long n);

    // losses (N), lse (N) <- logits (N,Vp), targets (N)
    void CrossEntropyForward(float* losses, float* lse, float* logits, int* targets, int rows, int v, int vp);

    /// <summary>Replaces the logits with their gradient, each unmasked row weighted by dloss.</summary>
    void CrossEntropyBackward(float* logits, float* lse, int* targets, float dloss, int rows, int v, int vp);

    /// <summary>The classifier's backward for a chunk of rows: the cross-entropy's gradient of the logits
    /// (N,Vp), then the lm_head's: dinp (N,C) overwritten, dwte (Vp,C) +=. A backend may fuse the two
    /// (the GPU, in bf16, writes the gradient straight in bf16 for the products); the logits are
    /// scratch afterwards.</summary>
    void ClassifierBackward(float* dinp, float* dwte, float* logits, float* lse, int* targets, float dloss, TypedPointer lnf, TypedPointer wte, int rows, int c, int v, int vp)
    {
        CrossEntropyBackward(logits, lse, targets, dloss, rows, v, vp);
        MatmulBackward(dinp, dwte, null, logits, lnf, wte, rows, c, vp);
    }

    // (N) <- (N), fp32 to bf16 (round to nearest even) or bf16 to fp32 (exact)
    void Convert(TypedPointer output, TypedPointer inp, long n);

    // out (M,W) <- inp rows rowIndices[0..M) of width W; fp32 or bf16, both alike; rowIndices in the backend's memory
    void GatherRows(TypedPointer output, TypedPointer inp, int* rowIndices, int rows, int width);

    /// <summary>
    /// AdamW on n elements in llm.c's form, p -= lr * (mhat / (sqrt(vhat) + eps) + wd * p), with each
    /// gradient first multiplied by gradScale; step counts updates from 1 (bias corrections).
    /// zeroGradients clears the gradients in the same pass.
    /// </summary>
    void AdamWUpdate(float* parameters, float* gradients, float* m, float* v, long n,
        float lr, float beta1, float beta2, float eps, float weightDecay, int step, float gradScale, bool zeroGradients);

    /// <summary>The sum of the squares of n floats (the squared L2 norm), identical run to run.</summary>
    double SquareSum(float* data, long n);

    /// <summary>Floats of scratch <see cref="CachedAttentionForward"/> needs for a cache of maxT positions.</summary>
    long CachedAttentionScratchSize(int nh, int maxT);

    /// <summary>Decoding with a cache: first writes the keys and values of qkv's N rows (positions
    /// start..start+N-1) into rows start.. of the caches, then attends each of the N queries over
    /// cache positions 0 to its own.</summary>
    // out (N,C), keys (maxT,C), values (maxT,C) <- qkv (N,3C)
    void CachedAttentionForward(float* output, float* qkv, float* keys, float* values, float* scratch, int start, int n, int c, int nh, int maxT);
}
