using ILGPU;
using ILGPU.Runtime;
using SharpGpt.Kernels;

namespace SharpGpt.Gpu.Kernels;

/// <summary>
/// GELU (tanh approximation) on the GPU, element-wise with grid-stride loops. After the fc layer's
/// product it keeps the pre-activation x (in the output's type, as cuBLASLt's GELU epilogue does) and
/// the backward computes GELU'(x) from it; the bias add is fused in front, so the product is read
/// once. The interface's GeluForward and GeluBackward keep GELU'(x) instead, as the CPU does.
/// </summary>
internal sealed unsafe class GpuGelu(GpuDevice device)
{
    private const float Sqrt2OverPi = 0.7978845608028654f;
    private const float Cubic = 0.044715f;

    private Action<KernelConfig, ArrayView<float>, ArrayView<ushort>, int, ArrayView<float>, int, ArrayView<float>, ArrayView<float>, int, long>? _forward;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, long>? _backward;
    private Action<KernelConfig, ArrayView<float>, ArrayView<ushort>, ArrayView<float>, ArrayView<ushort>, int, ArrayView<float>, ArrayView<float>, int, long>? _forwardKeepingInput;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<ushort>, int, ArrayView<float>, long>? _backwardFromInput;

    /// <summary>out = GELU(inp + bias), derivative = GELU'(inp + bias) unless null (it may be inp); bias
    /// (width) broadcast over rows of width elements, or null.</summary>
    public void Forward(TypedPointer output, float* derivative, float* inp, float* bias, int width, long n)
    {
        var v = device.Addresses;
        _forward ??= device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<ushort>, int, ArrayView<float>, int, ArrayView<float>, ArrayView<float>, int, long>(ForwardKernel);
        _forward(device.Elementwise(n),
            output.IsBf16 ? ArrayView<float>.Empty : v.View<float>(output.Fp32, n),
            output.IsBf16 ? v.View<ushort>(output.Bf16, n) : ArrayView<ushort>.Empty,
            output.IsBf16 ? 1 : 0,
            derivative == null ? ArrayView<float>.Empty : v.View<float>(derivative, n), derivative == null ? 0 : 1,
            v.View<float>(inp, n), bias == null ? ArrayView<float>.Empty : v.View<float>(bias, width), bias == null ? 0 : width, n);
    }

    // dinp = derivative * dout; dinp may be dout
    public void Backward(float* dinp, float* derivative, float* dout, long n)
    {
        var v = device.Addresses;
        _backward ??= device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, long>(BackwardKernel);
        _backward(device.Elementwise(n), v.View<float>(dinp, n), v.View<float>(derivative, n), v.View<float>(dout, n), n);
    }

    /// <summary>out = GELU(x) and state = x, with x = inp + bias (width, broadcast over rows, or null);
    /// state has out's type. In fp32 state may be inp (each element is read before it is written).</summary>
    public void ForwardKeepingInput(TypedPointer output, TypedPointer state, float* inp, float* bias, int width, long n)
    {
        var v = device.Addresses;
        bool bf16 = output.IsBf16;
        _forwardKeepingInput ??= device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<ushort>, ArrayView<float>, ArrayView<ushort>, int, ArrayView<float>, ArrayView<float>, int, long>(ForwardKeepingInputKernel);
        _forwardKeepingInput(device.Elementwise(n),
            bf16 ? ArrayView<float>.Empty : v.View<float>(output.Fp32, n), bf16 ? v.View<ushort>(output.Bf16, n) : ArrayView<ushort>.Empty,
            bf16 ? ArrayView<float>.Empty : v.View<float>(state.Fp32, n), bf16 ? v.View<ushort>(state.Bf16, n) : ArrayView<ushort>.Empty, bf16 ? 1 : 0,
            v.View<float>(inp, n), bias == null ? ArrayView<float>.Empty : v.View<float>(bias, width), bias == null ? 0 : width, n);
    }

    /// <summary>dinp = GELU'(x) * dout, x the pre-activation <see cref="ForwardKeepingInput"/> kept (fp32 or bf16); dinp may be dout.</summary>
    public void BackwardFromInput(float* dinp, TypedPointer state, float* dout, long n)
    {
        var v = device.Addresses;
        _backwardFromInput ??= device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<ushort>, int, ArrayView<float>, long>(BackwardFromInputKernel);
        _backwardFromInput(device.Elementwise(n), v.View<float>(dinp, n),
            state.IsBf16 ? ArrayView<float>.Empty : v.View<float>(state.Fp32, n), state.IsBf16 ? v.View<ushort>(state.Bf16, n) : ArrayView<ushort>.Empty, state.IsBf16 ? 1 : 0,
            v.View<float>(dout, n), n);
    }

    // 0.5 x (1 + tanh u) = x s with s = 1 / (1 + e^(-2u)), as the CPU computes it: PTX's tanh.approx
    // is good to only about 2^-11, its ex2 to about 2^-22.
    private static float Sigmoid2U(float x)
    {
        float x2 = x * x;
        return 1f / (1f + KernelMath.Exp(-2f * Sqrt2OverPi * (x + (Cubic * x2 * x))));
    }

    // GELU'(x) = s + 2 x s (1 - s) u'.
    private static float Derivative(float x, float s)
    {
        float x2 = x * x;
        return s + (2f * x * s * (1f - s) * Sqrt2OverPi * (1f + (3f * Cubic * x2)));
    }

    private static void ForwardKeepingInputKernel(ArrayView<float> out32, ArrayView<ushort> out16, ArrayView<float> state32, ArrayView<ushort> state16, int bf16,
        ArrayView<float> inp, ArrayView<float> bias, int width, long n)
    {
        for (long i = KernelMath.ThreadIndex; i < n; i += KernelMath.ThreadCount)
        {
            float x = inp[i];
            if (width > 0)
            {
                x += bias[i % width];
            }

            float y = x * Sigmoid2U(x);
            if (bf16 != 0)
            {
                state16[i] = KernelMath.ToBf16(x);
                out16[i] = KernelMath.ToBf16(y);
            }
            else
            {
                state32[i] = x;
                out32[i] = y;
            }
        }
    }

    private static void BackwardFromInputKernel(ArrayView<float> dinp, ArrayView<float> state32, ArrayView<ushort> state16, int bf16, ArrayView<float> dout, long n)
    {
        for (long i = KernelMath.ThreadIndex; i < n; i += KernelMath.ThreadCount)
        {
            float x = bf16 != 0 ? KernelMath.FromBf16(state16[i]) : state32[i];
            dinp[i] = Derivative(x, Sigmoid2U(x)) * dout[i];
        }
    }

    private static void ForwardKernel(ArrayView<float> out32, ArrayView<ushort> out16, int bf16, ArrayView<float> derivative, int withDerivative,
        ArrayView<float> inp, ArrayView<float> bias, int width, long n)
    {
        for (long i = KernelMath.ThreadIndex; i < n; i += KernelMath.ThreadCount)
        {
            float x = inp[i];
            if (width > 0)
            {
                x += bias[i % width];
            }

            float s = Sigmoid2U(x);
            float y = x * s;
            if (withDerivative != 0)
            {
                derivative[i] = Derivative(x, s);
            }

            if (bf16 != 0)
            {
                out16[i] = KernelMath.ToBf16(y);
            }
            else
            {
                out32[i] = y;
            }
        }
    }

    private static void BackwardKernel(ArrayView<float> dinp, ArrayView<float> derivative, ArrayView<float> dout, long n)
    {
        for (long i = KernelMath.ThreadIndex; i < n; i += KernelMath.ThreadCount)
        {
            dinp[i] = derivative[i] * dout[i];
        }
    }
}
