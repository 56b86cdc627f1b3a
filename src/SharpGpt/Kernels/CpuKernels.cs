using System.Runtime.InteropServices;
using SharpGpt.Model;

namespace SharpGpt.Kernels;

/// <summary>The managed, vectorised, multithreaded CPU kernels on host memory; flash attention unless told otherwise.</summary>
internal sealed unsafe class CpuKernels(ParallelRunner runner, AttentionAlgorithm attention = AttentionAlgorithm.Flash) : IGptKernels
{
    // The norm's per-block partial sums, grown to the largest buffer seen (once: the gradients).
    private double[] _normPartials = [];

    public ParallelRunner Runner { get; } = runner;

    public bool IsHostMemory => true;

    public DeviceBuffer Allocate(long floats) => new NativeBuffer(floats);

    public void CopyToDevice(void* device, void* host, long bytes) => Buffer.MemoryCopy(host, device, bytes, bytes);

    public void CopyToHost(void* host, void* device, long bytes) => Buffer.MemoryCopy(device, host, bytes, bytes);

    public void CopyOnDevice(void* destination, void* source, long bytes) => Buffer.MemoryCopy(source, destination, bytes, bytes);

    public void Clear(void* device, long bytes) => NativeMemory.Clear(device, (nuint)bytes);

    public void Synchronize()
    {
    }

    public AttentionAlgorithm Attention { get; } = attention;

    public void EncoderForward(float* output, int* inputs, float* wte, float* wpe, int b, int t, int c)
        => Encoder.Forward(Runner, output, inputs, wte, wpe, b, t, c);

    public void EncoderBackward(float* dwte, float* dwpe, float* dout, int* inputs, int b, int t, int c)
        => Encoder.Backward(Runner, dwte, dwpe, dout, inputs, b, t, c);

    public void LayerNormForward(TypedPointer output, float* mean, float* rstd, float* inp, float* weight, float* bias, int rows, int c)
        => LayerNorm.Forward(Runner, output, mean, rstd, inp, weight, bias, rows, c);

    public void LayerNormResidualForward(float* residual, TypedPointer output, float* mean, float* rstd, float* a, float* b, float* weight, float* bias, int rows, int c)
        => LayerNorm.ForwardResidual(Runner, residual, output, mean, rstd, a, b, weight, bias, rows, c);

    public void LayerNormBackward(float* dinp, float* dweight, float* dbias, float* dout, float* inp, float* weight, float* mean, float* rstd, int rows, int c)
        => LayerNorm.Backward(Runner, dinp, dweight, dbias, dout, inp, weight, mean, rstd, rows, c);

    public void MatmulForward(float* output, TypedPointer inp, TypedPointer weight, float* bias, int rows, int c, int oc)
        => Matmul.Forward(Runner, output, inp, weight, bias, rows, c, oc);

    public void MatmulBackward(float* dinp, float* dweight, float* dbias, float* dout, TypedPointer inp, TypedPointer weight, int rows, int c, int oc)
        => Matmul.Backward(Runner, dinp, dweight, dbias, dout, inp, weight, rows, c, oc);

    public long AttentionStateSize(int b, int t, int nh, Precision precision = Precision.Fp32) => Attention == AttentionAlgorithm.Flash
        ? FlashAttention.StateSize(b, t, nh)
        : Kernels.Attention.AttentionScratchSize(b, t, nh);

    public long AttentionScratchSize(int b, int t, int c, int nh, Precision precision = Precision.Fp32) => Attention == AttentionAlgorithm.Flash
        ? FlashAttention.ScratchSize(b, t, c, nh)
        : Kernels.Attention.BackwardScratchSize(b, t, nh);

    public void AttentionForward(float* output, float* state, float* qkv, int b, int t, int c, int nh, Precision precision = Precision.Fp32)
    {
        if (Attention == AttentionAlgorithm.Flash)
        {
            FlashAttention.Forward(Runner, output, state, qkv, b, t, c, nh);
        }
        else
        {
            Kernels.Attention.Forward(Runner, output, state, qkv, b, t, c, nh);
        }
    }

    public void AttentionBackward(float* dqkv, float* scratch, float* dout, float* qkv, float* output, float* state, int b, int t, int c, int nh, Precision precision = Precision.Fp32)
    {
        if (Attention == AttentionAlgorithm.Flash)
        {
            FlashAttention.Backward(Runner, dqkv, scratch, dout, qkv, output, state, b, t, c, nh);
        }
        else
        {
            new Span<float>(dqkv, checked(b * t * 3 * c)).Clear();
            Kernels.Attention.Backward(Runner, dqkv, scratch, dout, qkv, state, b, t, c, nh);
        }
    }

    public void GeluForward(TypedPointer output, float* inp, long n) => Gelu.Forward(Runner, output, inp, n);

    public void GeluForward(TypedPointer output, float* derivative, float* inp, long n) => Gelu.Forward(Runner, output, derivative, inp, n);

    public void GeluBackward(float* dinp, float* derivative, float* dout, long n) => Gelu.Backward(Runner, dinp, derivative, dout, n);

    public void ResidualForward(float* output, float* a, float* b, long n) => Residual.Forward(Runner, output, a, b, n);

    public void CrossEntropyForward(float* losses, float* lse, float* logits, int* targets, int rows, int v, int vp)
        => CrossEntropy.Forward(Runner, losses, lse, logits, targets, rows, v, vp);

    public void CrossEntropyBackward(float* logits, float* lse, int* targets, float dloss, int rows, int v, int vp)
        => CrossEntropy.Backward(Runner, logits, lse, targets, dloss, rows, v, vp);

    public void Convert(TypedPointer output, TypedPointer inp, long n) => BFloat16.Convert(Runner, output, inp, n);

    public void GatherRows(TypedPointer output, TypedPointer inp, int* rowIndices, int rows, int width)
    {
        if (output.IsBf16 != inp.IsBf16)
        {
            throw new ArgumentException("GatherRows copies rows as they are: output and input must both be fp32 or both bf16.");
        }

        long rowBytes = (long)width * inp.ElementSize;
        for (int r = 0; r < rows; r++)
        {
            Buffer.MemoryCopy((inp + ((long)rowIndices[r] * width)).Address, (output + ((long)r * width)).Address, rowBytes, rowBytes);
        }
    }

    public void AdamWUpdate(float* parameters, float* gradients, float* m, float* v, long n,
        float lr, float beta1, float beta2, float eps, float weightDecay, int step, float gradScale, bool zeroGradients)
        => AdamW.Update(Runner, parameters, gradients, m, v, n, lr, beta1, beta2, eps, weightDecay, step, gradScale, zeroGradients);

    public double SquareSum(float* data, long n)
    {
        int parts = GradientNorm.PartialCount(n);
        if (parts > _normPartials.Length)
        {
            _normPartials = new double[parts];
        }

        fixed (double* partials = _normPartials)
        {
            return GradientNorm.SumOfSquares(Runner, data, n, partials);
        }
    }

    public long CachedAttentionScratchSize(int nh, int maxT) => CachedAttention.ScratchSize(Runner, nh, maxT);

    public void CachedAttentionForward(float* output, float* qkv, float* keys, float* values, float* scratch, int start, int n, int c, int nh, int maxT)
    {
        long rowBytes = (long)c * sizeof(float);
        for (int r = 0; r < n; r++)
        {
            float* row = qkv + ((long)r * 3 * c);
            long at = (long)(start + r) * c;
            Buffer.MemoryCopy(row + c, keys + at, rowBytes, rowBytes);
            Buffer.MemoryCopy(row + (2 * c), values + at, rowBytes, rowBytes);
        }

        CachedAttention.Forward(Runner, output, qkv, keys, values, scratch, start, n, c, nh, maxT);
    }
}
