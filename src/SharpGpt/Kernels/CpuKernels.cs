namespace SharpGpt.Kernels;

/// <summary>The managed, vectorised, multithreaded CPU kernels; flash attention unless told otherwise.</summary>
public sealed unsafe class CpuKernels(ParallelRunner runner, AttentionAlgorithm attention = AttentionAlgorithm.Flash) : IGptKernels
{
    public ParallelRunner Runner { get; } = runner;

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

    public long AttentionStateSize(int b, int t, int nh) => Attention == AttentionAlgorithm.Flash
        ? FlashAttention.StateSize(b, t, nh)
        : Kernels.Attention.AttentionScratchSize(b, t, nh);

    public long AttentionScratchSize(int b, int t, int c, int nh) => Attention == AttentionAlgorithm.Flash
        ? FlashAttention.ScratchSize(b, t, c, nh)
        : Kernels.Attention.BackwardScratchSize(b, t, nh);

    public void AttentionForward(float* output, float* state, float* qkv, int b, int t, int c, int nh)
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

    public void AttentionBackward(float* dqkv, float* scratch, float* dout, float* qkv, float* output, float* state, int b, int t, int c, int nh)
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
}
