using ILGPU;
using ILGPU.Runtime;
using SharpGpt.Kernels;

namespace SharpGpt.Gpu.Kernels;

/// <summary>
/// GELU (tanh approximation) on the GPU, element-wise with grid-stride loops. The training forward
/// also writes GELU'(x) (over its input, which nothing else reads), so the backward is a multiply;
/// after a matmul the bias add is fused in front, so the pre-activation is read once.
/// </summary>
internal sealed unsafe class GpuGelu(GpuDevice device)
{
    private const float Sqrt2OverPi = 0.7978845608028654f;
    private const float Cubic = 0.044715f;

    private Action<KernelConfig, ArrayView<float>, ArrayView<ushort>, int, ArrayView<float>, int, ArrayView<float>, ArrayView<float>, int, long>? _forward;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, long>? _backward;

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

            // 0.5 x (1 + tanh u) = x s with s = 1 / (1 + e^(-2u)), as the CPU computes it: PTX's tanh.approx
            // is good to only about 2^-11, its ex2 to about 2^-22. GELU'(x) = s + 2 x s (1 - s) u'.
            float x2 = x * x;
            float s = 1f / (1f + KernelMath.Exp(-2f * Sqrt2OverPi * (x + (Cubic * x2 * x))));
            float y = x * s;
            if (withDerivative != 0)
            {
                derivative[i] = s + (2f * x * s * (1f - s) * Sqrt2OverPi * (1f + (3f * Cubic * x2)));
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
