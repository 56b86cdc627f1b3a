using System.Diagnostics;

using SharpGpt.Model;

namespace SharpGpt.Kernels;

/// <summary>Wraps a kernel set and adds up the wall time spent in each kernel, for benchmark breakdowns.
/// Each timed kernel starts and ends with the backend synchronized, so a GPU's asynchronous launches
/// are charged to the kernel that ran them.</summary>
internal sealed unsafe class ProfilingKernels(IGptKernels inner) : IGptKernels
{
    private readonly Dictionary<string, (double Seconds, long Calls)> _totals = [];

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

    /// <summary>Seconds and call counts per kernel since the last <see cref="Reset"/>.</summary>
    public IReadOnlyDictionary<string, (double Seconds, long Calls)> Totals => _totals;

    public void Reset() => _totals.Clear();

    private long Begin()
    {
        inner.Synchronize();
        return Stopwatch.GetTimestamp();
    }

    private void Add(string name, long start)
    {
        inner.Synchronize();
        double s = Stopwatch.GetElapsedTime(start).TotalSeconds;
        _totals[name] = _totals.TryGetValue(name, out var t) ? (t.Seconds + s, t.Calls + 1) : (s, 1);
    }

    public void EncoderForward(float* output, int* inputs, float* wte, float* wpe, int b, int t, int c)
    {
        long s = Begin();
        inner.EncoderForward(output, inputs, wte, wpe, b, t, c);
        Add("encoder.forward", s);
    }

    public void EncoderBackward(float* dwte, float* dwpe, float* dout, int* inputs, int b, int t, int c)
    {
        long s = Begin();
        inner.EncoderBackward(dwte, dwpe, dout, inputs, b, t, c);
        Add("encoder.backward", s);
    }

    public void LayerNormForward(TypedPointer output, float* mean, float* rstd, float* inp, float* weight, float* bias, int rows, int c)
    {
        long s = Begin();
        inner.LayerNormForward(output, mean, rstd, inp, weight, bias, rows, c);
        Add("layernorm.forward", s);
    }

    public void LayerNormResidualForward(float* residual, TypedPointer output, float* mean, float* rstd, float* a, float* b, float* weight, float* bias, int rows, int c)
    {
        long s = Begin();
        inner.LayerNormResidualForward(residual, output, mean, rstd, a, b, weight, bias, rows, c);
        Add("residual+layernorm.forward", s);
    }

    public void LayerNormBackward(float* dinp, float* dweight, float* dbias, float* dout, float* inp, float* weight, float* mean, float* rstd, int rows, int c)
    {
        long s = Begin();
        inner.LayerNormBackward(dinp, dweight, dbias, dout, inp, weight, mean, rstd, rows, c);
        Add("layernorm.backward", s);
    }

    public void MatmulForward(float* output, TypedPointer inp, TypedPointer weight, float* bias, int rows, int c, int oc)
    {
        long s = Begin();
        inner.MatmulForward(output, inp, weight, bias, rows, c, oc);
        Add(bias == null ? "matmul.forward (lm_head)" : "matmul.forward", s);
    }

    public void MatmulBackward(float* dinp, float* dweight, float* dbias, float* dout, TypedPointer inp, TypedPointer weight, int rows, int c, int oc)
    {
        long s = Begin();
        inner.MatmulBackward(dinp, dweight, dbias, dout, inp, weight, rows, c, oc);
        Add(dbias == null ? "matmul.backward (lm_head)" : "matmul.backward", s);
    }

    public void MatmulGeluForward(float* geluState, TypedPointer output, TypedPointer inp, TypedPointer weight, float* bias, int rows, int c, int oc)
    {
        long s = Begin();
        inner.MatmulGeluForward(geluState, output, inp, weight, bias, rows, c, oc);
        Add("matmul+gelu.forward", s);
    }

    public void MatmulGeluBackward(float* dx, float* dweight, float* dbias, float* dout, TypedPointer inp, float* geluState, TypedPointer weight, int rows, int c, int oc)
    {
        long s = Begin();
        inner.MatmulGeluBackward(dx, dweight, dbias, dout, inp, geluState, weight, rows, c, oc);
        Add("matmul+gelu.backward", s);
    }

    public long AttentionStateSize(int b, int t, int nh, Precision precision = Precision.Fp32) => inner.AttentionStateSize(b, t, nh, precision);

    public long AttentionScratchSize(int b, int t, int c, int nh, Precision precision = Precision.Fp32) => inner.AttentionScratchSize(b, t, c, nh, precision);

    public void AttentionForward(float* output, float* state, float* qkv, int b, int t, int c, int nh, Precision precision = Precision.Fp32)
    {
        long s = Begin();
        inner.AttentionForward(output, state, qkv, b, t, c, nh, precision);
        Add("attention.forward", s);
    }

    public void AttentionBackward(float* dqkv, float* scratch, float* dout, float* qkv, float* output, float* state, int b, int t, int c, int nh, Precision precision = Precision.Fp32)
    {
        long s = Begin();
        inner.AttentionBackward(dqkv, scratch, dout, qkv, output, state, b, t, c, nh, precision);
        Add("attention.backward", s);
    }

    public void GeluForward(TypedPointer output, float* inp, long n)
    {
        long s = Begin();
        inner.GeluForward(output, inp, n);
        Add("gelu.forward", s);
    }

    public void GeluForward(TypedPointer output, float* derivative, float* inp, long n)
    {
        long s = Begin();
        inner.GeluForward(output, derivative, inp, n);
        Add("gelu.forward", s);
    }

    public void GeluBackward(float* dinp, float* derivative, float* dout, long n)
    {
        long s = Begin();
        inner.GeluBackward(dinp, derivative, dout, n);
        Add("gelu.backward", s);
    }

    public void ResidualForward(float* output, float* a, float* b, long n)
    {
        long s = Begin();
        inner.ResidualForward(output, a, b, n);
        Add("residual.forward", s);
    }

    public void CrossEntropyForward(float* losses, float* lse, float* logits, int* targets, int rows, int v, int vp)
    {
        long s = Begin();
        inner.CrossEntropyForward(losses, lse, logits, targets, rows, v, vp);
        Add("crossentropy.forward", s);
    }

    public void CrossEntropyBackward(float* logits, float* lse, int* targets, float dloss, int rows, int v, int vp)
    {
        long s = Begin();
        inner.CrossEntropyBackward(logits, lse, targets, dloss, rows, v, vp);
        Add("crossentropy.backward", s);
    }

    public void ClassifierBackward(float* dinp, float* dwte, float* logits, float* lse, int* targets, float dloss, TypedPointer lnf, TypedPointer wte, int rows, int c, int v, int vp)
    {
        long s = Begin();
        inner.ClassifierBackward(dinp, dwte, logits, lse, targets, dloss, lnf, wte, rows, c, v, vp);
        Add("classifier.backward (crossentropy + lm_head)", s);
    }

    public void Convert(TypedPointer output, TypedPointer inp, long n)
    {
        long s = Begin();
        inner.Convert(output, inp, n);
        Add(output.IsBf16 ? "convert.to_bf16" : "convert.to_fp32", s);
    }

    public void GatherRows(TypedPointer output, TypedPointer inp, int* rowIndices, int rows, int width)
    {
        long s = Begin();
        inner.GatherRows(output, inp, rowIndices, rows, width);
        Add("gather_rows", s);
    }

    public void AdamWUpdate(float* parameters, float* gradients, float* m, float* v, long n,
        float lr, float beta1, float beta2, float eps, float weightDecay, int step, float gradScale, bool zeroGradients)
    {
        long s = Begin();
        inner.AdamWUpdate(parameters, gradients, m, v, n, lr, beta1, beta2, eps, weightDecay, step, gradScale, zeroGradients);
        Add("adamw", s);
    }

    public double SquareSum(float* data, long n)
    {
        long s = Begin();
        double sum = inner.SquareSum(data, n);
        Add("gradient_norm", s);
        return sum;
    }

    public long CachedAttentionScratchSize(int nh, int maxT) => inner.CachedAttentionScratchSize(nh, maxT);

    public void CachedAttentionForward(float* output, float* qkv, float* keys, float* values, float* scratch, int start, int n, int c, int nh, int maxT)
    {
        long s = Begin();
        inner.CachedAttentionForward(output, qkv, keys, values, scratch, start, n, c, nh, maxT);
        Add("attention.cached", s);
    }
}
