using System.Diagnostics;

namespace SharpGpt.Kernels;

/// <summary>Wraps a kernel set and adds up the wall time spent in each kernel, for benchmark breakdowns.</summary>
public sealed unsafe class ProfilingKernels(IGptKernels inner) : IGptKernels
{
    private readonly Dictionary<string, (double Seconds, long Calls)> _totals = [];

    public ParallelRunner Runner => inner.Runner;

    /// <summary>Seconds and call counts per kernel since the last <see cref="Reset"/>.</summary>
    public IReadOnlyDictionary<string, (double Seconds, long Calls)> Totals => _totals;

    public void Reset() => _totals.Clear();

    private void Add(string name, long start)
    {
        double s = Stopwatch.GetElapsedTime(start).TotalSeconds;
        _totals[name] = _totals.TryGetValue(name, out var t) ? (t.Seconds + s, t.Calls + 1) : (s, 1);
    }

    public void EncoderForward(float* output, int* inputs, float* wte, float* wpe, int b, int t, int c)
    {
        long s = Stopwatch.GetTimestamp();
        inner.EncoderForward(output, inputs, wte, wpe, b, t, c);
        Add("encoder.forward", s);
    }

    public void EncoderBackward(float* dwte, float* dwpe, float* dout, int* inputs, int b, int t, int c)
    {
        long s = Stopwatch.GetTimestamp();
        inner.EncoderBackward(dwte, dwpe, dout, inputs, b, t, c);
        Add("encoder.backward", s);
    }

    public void LayerNormForward(TypedPointer output, float* mean, float* rstd, float* inp, float* weight, float* bias, int rows, int c)
    {
        long s = Stopwatch.GetTimestamp();
        inner.LayerNormForward(output, mean, rstd, inp, weight, bias, rows, c);
        Add("layernorm.forward", s);
    }

    public void LayerNormResidualForward(float* residual, TypedPointer output, float* mean, float* rstd, float* a, float* b, float* weight, float* bias, int rows, int c)
    {
        long s = Stopwatch.GetTimestamp();
        inner.LayerNormResidualForward(residual, output, mean, rstd, a, b, weight, bias, rows, c);
        Add("residual+layernorm.forward", s);
    }

    public void LayerNormBackward(float* dinp, float* dweight, float* dbias, float* dout, float* inp, float* weight, float* mean, float* rstd, int rows, int c)
    {
        long s = Stopwatch.GetTimestamp();
        inner.LayerNormBackward(dinp, dweight, dbias, dout, inp, weight, mean, rstd, rows, c);
        Add("layernorm.backward", s);
    }

    public void MatmulForward(float* output, TypedPointer inp, TypedPointer weight, float* bias, int rows, int c, int oc)
    {
        long s = Stopwatch.GetTimestamp();
        inner.MatmulForward(output, inp, weight, bias, rows, c, oc);
        Add(bias == null ? "matmul.forward (lm_head)" : "matmul.forward", s);
    }

    public void MatmulBackward(float* dinp, float* dweight, float* dbias, float* dout, TypedPointer inp, TypedPointer weight, int rows, int c, int oc)
    {
        long s = Stopwatch.GetTimestamp();
        inner.MatmulBackward(dinp, dweight, dbias, dout, inp, weight, rows, c, oc);
        Add(dbias == null ? "matmul.backward (lm_head)" : "matmul.backward", s);
    }

    public void MatmulGeluForward(float* derivative, TypedPointer output, TypedPointer inp, TypedPointer weight, float* bias, int rows, int c, int oc)
    {
        long s = Stopwatch.GetTimestamp();
        inner.MatmulGeluForward(derivative, output, inp, weight, bias, rows, c, oc);
        Add("matmul+gelu.forward", s);
    }

    public void MatmulGeluBackward(float* dx, float* dweight, float* dbias, float* dout, TypedPointer inp, float* inpDerivative, TypedPointer weight, int rows, int c, int oc)
    {
        long s = Stopwatch.GetTimestamp();
        inner.MatmulGeluBackward(dx, dweight, dbias, dout, inp, inpDerivative, weight, rows, c, oc);
        Add("matmul+gelu.backward", s);
    }

    public long AttentionStateSize(int b, int t, int nh) => inner.AttentionStateSize(b, t, nh);

    public long AttentionScratchSize(int b, int t, int c, int nh) => inner.AttentionScratchSize(b, t, c, nh);

    public void AttentionForward(float* output, float* state, float* qkv, int b, int t, int c, int nh)
    {
        long s = Stopwatch.GetTimestamp();
        inner.AttentionForward(output, state, qkv, b, t, c, nh);
        Add("attention.forward", s);
    }

    public void AttentionBackward(float* dqkv, float* scratch, float* dout, float* qkv, float* output, float* state, int b, int t, int c, int nh)
    {
        long s = Stopwatch.GetTimestamp();
        inner.AttentionBackward(dqkv, scratch, dout, qkv, output, state, b, t, c, nh);
        Add("attention.backward", s);
    }

    public void GeluForward(TypedPointer output, float* inp, long n)
    {
        long s = Stopwatch.GetTimestamp();
        inner.GeluForward(output, inp, n);
        Add("gelu.forward", s);
    }

    public void GeluForward(TypedPointer output, float* derivative, float* inp, long n)
    {
        long s = Stopwatch.GetTimestamp();
        inner.GeluForward(output, derivative, inp, n);
        Add("gelu.forward", s);
    }

    public void GeluBackward(float* dinp, float* derivative, float* dout, long n)
    {
        long s = Stopwatch.GetTimestamp();
        inner.GeluBackward(dinp, derivative, dout, n);
        Add("gelu.backward", s);
    }

    public void ResidualForward(float* output, float* a, float* b, long n)
    {
        long s = Stopwatch.GetTimestamp();
        inner.ResidualForward(output, a, b, n);
        Add("residual.forward", s);
    }

    public void CrossEntropyForward(float* losses, float* lse, float* logits, int* targets, int rows, int v, int vp)
    {
        long s = Stopwatch.GetTimestamp();
        inner.CrossEntropyForward(losses, lse, logits, targets, rows, v, vp);
        Add("crossentropy.forward", s);
    }

    public void CrossEntropyBackward(float* logits, float* lse, int* targets, float dloss, int rows, int v, int vp)
    {
        long s = Stopwatch.GetTimestamp();
        inner.CrossEntropyBackward(logits, lse, targets, dloss, rows, v, vp);
        Add("crossentropy.backward", s);
    }

    public void Convert(TypedPointer output, TypedPointer inp, long n)
    {
        long s = Stopwatch.GetTimestamp();
        inner.Convert(output, inp, n);
        Add(output.IsBf16 ? "convert.to_bf16" : "convert.to_fp32", s);
    }
}
