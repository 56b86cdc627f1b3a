using ILGPU;
using ILGPU.Runtime;
using SharpGpt.Gpu.Kernels;
using SharpGpt.Kernels;
using SharpGpt.Model;

namespace SharpGpt.Gpu;

/// <summary>
/// The GPU backend: every operation of <see cref="IGptKernels"/> as ILGPU kernels and cuBLAS-shaped
/// products on a <see cref="GpuDevice"/>'s memory. Pointers are device addresses; the host reaches
/// them only through the copies here. Attention keeps the causal T x T probabilities per layer
/// (<see cref="AttentionStateSize"/>), so its memory grows with T squared.
/// </summary>
internal sealed unsafe class GpuKernels : IGptKernels, IDisposable
{
    private readonly GpuDevice _device;
    private readonly GpuWorkspace _workspace;
    private readonly GpuEncoder _encoder;
    private readonly GpuLayerNorm _layerNorm;
    private readonly GpuMatmul _matmul;
    private readonly GpuAttention _attention;
    private readonly GpuCachedAttention _cachedAttention;
    private readonly GpuGelu _gelu;
    private readonly GpuResidual _residual;
    private readonly GpuCrossEntropy _crossEntropy;
    private readonly GpuConvert _convert;
    private readonly GpuRows _rows;
    private readonly GpuAdamW _adamW;
    private readonly GpuReductions _reductions;

    private readonly long _parameterLimit;

    /// <param name="parameterLimit">The largest model this backend runs (the emulated device's is small); 0 for any.</param>
    public GpuKernels(GpuDevice device, ParallelRunner hostRunner, long parameterLimit = 0)
    {
        _device = device;
        Runner = hostRunner;
        _parameterLimit = parameterLimit;
        _workspace = new GpuWorkspace(device);
        _reductions = new GpuReductions(device);
        _convert = new GpuConvert(device);
        _gelu = new GpuGelu(device);
        _encoder = new GpuEncoder(device);
        _layerNorm = new GpuLayerNorm(device, _reductions, _workspace);
        _matmul = new GpuMatmul(device, _reductions, _convert, _gelu, _workspace);
        _attention = new GpuAttention(device, _workspace);
        _cachedAttention = new GpuCachedAttention(device);
        _residual = new GpuResidual(device);
        _crossEntropy = new GpuCrossEntropy(device);
        _rows = new GpuRows(device);
        _adamW = new GpuAdamW(device);
    }

    /// <summary>The emulated device runs every GPU thread as an OS thread: a step of a model larger than this takes minutes.</summary>
    public const long EmulatedParameterLimit = 20_000_000;

    public GpuDevice Device => _device;

    /// <summary>Bytes of workspace allocated so far (grown to the largest operation run).</summary>
    internal long WorkspaceBytesAllocated => _workspace.Floats * sizeof(float);

    public void CheckModelSize(long parameters)
    {
        if (_parameterLimit > 0 && parameters > _parameterLimit)
        {
            throw new SharpGptException("Device", $"the cuda-emulated device runs models of at most {_parameterLimit / 1_000_000}M parameters and this one has {parameters / 1e6:F1}M: "
                + "the emulator runs each GPU thread as an OS thread and the products on the host, thousands of times slower than the cpu device, so a step would take hours",
                "it is there to check the GPU code path on small models; use the cpu or cuda device for this one");
        }
    }

    public ParallelRunner Runner { get; }

    public bool IsHostMemory => false;

    public DeviceBuffer Allocate(long floats) => new GpuBuffer(_device.Accelerator, _device.Addresses, floats);

    public void CopyToDevice(void* device, void* host, long bytes) =>
        _device.Addresses.View<byte>(device, bytes).CopyFromCPU(ref *(byte*)host, bytes);

    public void CopyToHost(void* host, void* device, long bytes) =>
        _device.Addresses.View<byte>(device, bytes).CopyToCPU(ref *(byte*)host, bytes);

    public void CopyOnDevice(void* destination, void* source, long bytes) =>
        _device.Addresses.View<byte>(source, bytes).CopyTo(_device.Addresses.View<byte>(destination, bytes));

    public void Clear(void* device, long bytes) => _device.Addresses.View<byte>(device, bytes).MemSetToZero();

    public void Synchronize() => _device.Synchronize();

    public void EncoderForward(float* output, int* inputs, float* wte, float* wpe, int b, int t, int c) => _encoder.Forward(output, inputs, wte, wpe, b, t, c);

    public void EncoderBackward(float* dwte, float* dwpe, float* dout, int* inputs, int b, int t, int c) => _encoder.Backward(dwte, dwpe, dout, inputs, b, t, c);

    public void LayerNormForward(TypedPointer output, float* mean, float* rstd, float* inp, float* weight, float* bias, int rows, int c)
        => _layerNorm.Forward(output, mean, rstd, inp, null, null, weight, bias, rows, c);

    public void LayerNormResidualForward(float* residual, TypedPointer output, float* mean, float* rstd, float* a, float* b, float* weight, float* bias, int rows, int c)
        => _layerNorm.Forward(output, mean, rstd, residual, a, b, weight, bias, rows, c);

    public void LayerNormBackward(float* dinp, float* dweight, float* dbias, float* dout, float* inp, float* weight, float* mean, float* rstd, int rows, int c)
        => _layerNorm.Backward(dinp, dweight, dbias, dout, inp, weight, mean, rstd, rows, c);

    public void MatmulForward(float* output, TypedPointer inp, TypedPointer weight, float* bias, int rows, int c, int oc)
        => _matmul.Forward(output, inp, weight, bias, rows, c, oc);

    public void MatmulBackward(float* dinp, float* dweight, float* dbias, float* dout, TypedPointer inp, TypedPointer weight, int rows, int c, int oc)
        => _matmul.Backward(dinp, dweight, dbias, dout, inp, weight, rows, c, oc);

    /// <summary>The GELU state is the pre-activation x itself, in out's type (what cuBLASLt's GELU epilogue keeps).</summary>
    public void MatmulGeluForward(float* geluState, TypedPointer output, TypedPointer inp, TypedPointer weight, float* bias, int rows, int c, int oc)
        => _matmul.ForwardGelu(geluState, output, inp, weight, bias, rows, c, oc);

    public void MatmulGeluBackward(float* dx, float* dweight, float* dbias, float* dout, TypedPointer inp, float* geluState, TypedPointer weight, int rows, int c, int oc)
        => _matmul.BackwardGelu(dx, dweight, dbias, dout, inp, geluState, weight, rows, c, oc);

    /// <summary>1 GiB of logits: few, large lm_head products, and few read-modify-write passes over the
    /// wte gradient (154 MB for GPT-2), which every chunk's weight-gradient product makes.</summary>
    public long ClassifierChunkFloats => 256L << 20;

    public long WorkspaceBytes(GptConfig config, int b, int t, Precision precision)
    {
        long n = (long)b * t, c = config.Channels;
        long attention = GpuAttention.ForwardWorkspace(b, t, config.Channels, config.NumHeads, precision); // head-major Q, K, V, O (and bf16's fp32 scores)
        long layerNorm = GpuLayerNorm.MaxBackwardWarps * 2 * c;       // partial rows of the backward
        long gradient = precision == Precision.Bf16                  // a bf16 copy of the widest output gradient
            ? (Math.Max(n * 4 * c, (long)Activations.ClassifierChunkRows(config, this, b, t) * config.PaddedVocabSize) + 1) / 2
            : 0;
        long bias = ((n + GpuMatmul.BiasChunkRows - 1) / GpuMatmul.BiasChunkRows) * 4 * c;
        long geluProduct = precision == Precision.Bf16 ? n * 4 * c : 0; // the fc product where cuBLASLt's GELU epilogue is declined
        return sizeof(float) * Math.Max(Math.Max(attention, geluProduct + 1024), Math.Max(layerNorm, gradient + bias + 1024));
    }

    public long AttentionStateSize(int b, int t, int nh, Precision precision = Precision.Fp32) => GpuAttention.StateSize(b, t, nh, precision);

    public long AttentionScratchSize(int b, int t, int c, int nh, Precision precision = Precision.Fp32) => GpuAttention.ScratchSize(b, t, c, nh, precision);

    public void AttentionForward(float* output, float* state, float* qkv, int b, int t, int c, int nh, Precision precision = Precision.Fp32)
        => _attention.Forward(output, state, qkv, b, t, c, nh, precision);

    public void AttentionBackward(float* dqkv, float* scratch, float* dout, float* qkv, float* output, float* state, int b, int t, int c, int nh, Precision precision = Precision.Fp32)
        => _attention.Backward(dqkv, scratch, dout, qkv, state, b, t, c, nh, precision);

    public void GeluForward(TypedPointer output, float* inp, long n) => _gelu.Forward(output, null, inp, null, 0, n);

    public void GeluForward(TypedPointer output, float* derivative, float* inp, long n) => _gelu.Forward(output, derivative, inp, null, 0, n);

    public void GeluBackward(float* dinp, float* derivative, float* dout, long n) => _gelu.Backward(dinp, derivative, dout, n);

    public void ResidualForward(float* output, float* a, float* b, long n) => _residual.Forward(output, a, b, n);

    public void CrossEntropyForward(float* losses, float* lse, float* logits, int* targets, int rows, int v, int vp)
        => _crossEntropy.Forward(losses, lse, logits, targets, rows, v, vp);

    public void CrossEntropyBackward(float* logits, float* lse, int* targets, float dloss, int rows, int v, int vp)
        => _crossEntropy.Backward(logits, lse, targets, dloss, rows, v, vp);

    /// <summary>In bf16 the gradient of the logits is written once, in bf16, where the lm_head's products
    /// read it: no fp32 gradient written over the logits and rounded again.</summary>
    public void ClassifierBackward(float* dinp, float* dwte, float* logits, float* lse, int* targets, float dloss, TypedPointer lnf, TypedPointer wte, int rows, int c, int v, int vp)
    {
        if (!lnf.IsBf16 || !wte.IsBf16)
        {
            CrossEntropyBackward(logits, lse, targets, dloss, rows, v, vp);
            MatmulBackward(dinp, dwte, null, logits, lnf, wte, rows, c, vp);
            return;
        }

        ushort* gradient = (ushort*)_workspace.Get((((long)rows * vp) + 1) / 2);
        _crossEntropy.Backward(gradient, logits, lse, targets, dloss, rows, v, vp);
        _matmul.BackwardFromBf16(dinp, dwte, gradient, lnf, wte, rows, c, vp);
    }

    public void Convert(TypedPointer output, TypedPointer inp, long n) => _convert.Convert(output, inp, n);

    public void GatherRows(TypedPointer output, TypedPointer inp, int* rowIndices, int rows, int width) => _rows.Gather(output, inp, rowIndices, rows, width);

    public void AdamWUpdate(float* parameters, float* gradients, float* m, float* v, long n,
        float lr, float beta1, float beta2, float eps, float weightDecay, int step, float gradScale, bool zeroGradients)
        => _adamW.Update(parameters, gradients, m, v, n, lr, beta1, beta2, eps, weightDecay, step, gradScale, zeroGradients);

    public double SquareSum(float* data, long n) => _reductions.SquareSum(data, n, _workspace);

    public long CachedAttentionScratchSize(int nh, int maxT) => GpuCachedAttention.ScratchSize(nh, maxT);

    public void CachedAttentionForward(float* output, float* qkv, float* keys, float* values, float* scratch, int start, int n, int c, int nh, int maxT)
        => _cachedAttention.Forward(output, qkv, keys, values, scratch, start, n, c, nh, maxT);

    public void Dispose() => _workspace.Dispose();
}
