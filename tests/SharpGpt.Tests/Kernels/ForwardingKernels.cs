using SharpGpt.Kernels;
using SharpGpt.Model;

namespace SharpGpt.Tests.Kernels;

/// <summary>
/// Forwards the members every backend must implement to another kernel set and leaves the fused
/// ones (matmul + GELU, residual + LayerNorm) to the interface's unfused defaults. Tests derive from
/// it to intercept single kernels, or use it as is to compare fused against unfused.
/// </summary>
internal unsafe class ForwardingKernels(IGptKernels inner) : IGptKernels
{
    public ParallelRunner Runner => inner.Runner;

    public bool IsHostMemory => inner.IsHostMemory;

    public void CheckModelSize(long parameters) => inner.CheckModelSize(parameters);

    public long ClassifierChunkFloats => inner.ClassifierChunkFloats;

    public long WorkspaceBytes(GptConfig config, int b, int t, Precision precision) => inner.WorkspaceBytes(config, b, t, precision);

    public DeviceBuffer Allocate(long floats) => inner.Allocate(floats);

    public void CopyToDevice(void* device, void* host, long bytes) => inner.CopyToDevice(device, host, bytes);

    public void CopyToHost(void* host, void* device, long bytes) => inner.CopyToHost(host, device, bytes);

    public void CopyOnDevice(void* destination, void* source, long bytes) => inner.CopyOnDevice(destination, source, bytes);

    public void Clear(void* device, long bytes) => inner.Clear(device, bytes);

    public void Synchronize() => inner.Synchronize();

    public virtual void EncoderForward(float* output, int* inputs, float* wte, float* wpe, int b, int t, int c) => inner.EncoderForward(output, inputs, wte, wpe, b, t, c);

    public virtual void EncoderBackward(float* dwte, float* dwpe, float* dout, int* inputs, int b, int t, int c) => inner.EncoderBackward(dwte, dwpe, dout, inputs, b, t, c);

    public virtual void LayerNormForward(TypedPointer output, float* mean, float* rstd, float* inp, float* weight, float* bias, int rows, int c) => inner.LayerNormForward(output, mean, rstd, inp, weight, bias, rows, c);

    public virtual void LayerNormBackward(float* dinp, float* dweight, float* dbias, float* dout, float* inp, float* weight, float* mean, float* rstd, int rows, int c) => inner.LayerNormBackward(dinp, dweight, dbias, dout, inp, weight, mean, rstd, rows, c);

    public virtual void MatmulForward(float* output, TypedPointer inp, TypedPointer weight, float* bias, int rows, int c, int oc) => inner.MatmulForward(output, inp, weight, bias, rows, c, oc);

    public virtual void MatmulBackward(float* dinp, float* dweight, float* dbias, float* dout, TypedPointer inp, TypedPointer weight, int rows, int c, int oc) => inner.MatmulBackward(dinp, dweight, dbias, dout, inp, weight, rows, c, oc);

    public long AttentionStateSize(int b, int t, int nh, Precision precision = Precision.Fp32) => inner.AttentionStateSize(b, t, nh, precision);

    public long AttentionScratchSize(int b, int t, int c, int nh, Precision precision = Precision.Fp32) => inner.AttentionScratchSize(b, t, c, nh, precision);

    public virtual void AttentionForward(float* output, float* state, float* qkv, int b, int t, int c, int nh, Precision precision = Precision.Fp32) => inner.AttentionForward(output, state, qkv, b, t, c, nh, precision);

    public virtual void AttentionBackward(float* dqkv, float* scratch, float* dout, float* qkv, float* output, float* state, int b, int t, int c, int nh, Precision precision = Precision.Fp32) => inner.AttentionBackward(dqkv, scratch, dout, qkv, output, state, b, t, c, nh, precision);

    public virtual void GeluForward(TypedPointer output, float* inp, long n) => inner.GeluForward(output, inp, n);

    public virtual void GeluForward(TypedPointer output, float* derivative, float* inp, long n) => inner.GeluForward(output, derivative, inp, n);

    public virtual void GeluBackward(float* dinp, float* derivative, float* dout, long n) => inner.GeluBackward(dinp, derivative, dout, n);

    public virtual void ResidualForward(float* output, float* a, float* b, long n) => inner.ResidualForward(output, a, b, n);

    public virtual void CrossEntropyForward(float* losses, float* lse, float* logits, int* targets, int rows, int v, int vp) => inner.CrossEntropyForward(losses, lse, logits, targets, rows, v, vp);

    public virtual void CrossEntropyBackward(float* logits, float* lse, int* targets, float dloss, int rows, int v, int vp) => inner.CrossEntropyBackward(logits, lse, targets, dloss, rows, v, vp);

    public virtual void ClassifierBackward(float* dinp, float* dwte, float* logits, float* lse, int* targets, float dloss, TypedPointer lnf, TypedPointer wte, int rows, int c, int v, int vp)
        => inner.ClassifierBackward(dinp, dwte, logits, lse, targets, dloss, lnf, wte, rows, c, v, vp);

    public virtual void Convert(TypedPointer output, TypedPointer inp, long n) => inner.Convert(output, inp, n);

    public virtual void GatherRows(TypedPointer output, TypedPointer inp, int* rowIndices, int rows, int width) => inner.GatherRows(output, inp, rowIndices, rows, width);

    public virtual void AdamWUpdate(float* parameters, float* gradients, float* m, float* v, long n,
        float lr, float beta1, float beta2, float eps, float weightDecay, int step, float gradScale, bool zeroGradients)
        => inner.AdamWUpdate(parameters, gradients, m, v, n, lr, beta1, beta2, eps, weightDecay, step, gradScale, zeroGradients);

    public virtual double SquareSum(float* data, long n) => inner.SquareSum(data, n);

    public long CachedAttentionScratchSize(int nh, int maxT) => inner.CachedAttentionScratchSize(nh, maxT);

    public virtual void CachedAttentionForward(float* output, float* qkv, float* keys, float* values, float* scratch, int start, int n, int c, int nh, int maxT)
        => inner.CachedAttentionForward(output, qkv, keys, values, scratch, start, n, c, nh, maxT);
}
