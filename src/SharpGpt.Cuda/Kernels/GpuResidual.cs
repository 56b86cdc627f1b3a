using ILGPU;
using ILGPU.Runtime;

namespace SharpGpt.Gpu.Kernels;

/// <summary>The residual add, out = a + b, element-wise.</summary>
internal sealed unsafe class GpuResidual(GpuDevice device)
{
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, long>? _forward;

    public void Forward(float* output, float* a, float* b, long n)
    {
        var v = device.Addresses;
        _forward ??= device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, long>(ForwardKernel);
        _forward(device.Elementwise(n), v.View<float>(output, n), v.View<float>(a, n), v.View<float>(b, n), n);
    }

    private static void ForwardKernel(ArrayView<float> output, ArrayView<float> a, ArrayView<float> b, long n)
    {
        for (long i = KernelMath.ThreadIndex; i < n; i += KernelMath.ThreadCount)
        {
            output[i] = a[i] + b[i];
        }
    }
}
