using ILGPU;
using ILGPU.Runtime;
using SharpGpt.Kernels;

namespace SharpGpt.Gpu.Kernels;

/// <summary>AdamW on the GPU, element-wise, with the CPU kernel's own update rule (<see cref="AdamW.Rule"/>),
/// so each element's arithmetic is the CPU's; it can clear the gradients in the same pass.</summary>
internal sealed unsafe class GpuAdamW(GpuDevice device)
{
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamW.Rule, int, long>? _update;

    public void Update(float* parameters, float* gradients, float* m, float* v, long n,
        float lr, float beta1, float beta2, float eps, float weightDecay, int step, float gradScale, bool zeroGradients)
    {
        var a = device.Addresses;
        _update ??= device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamW.Rule, int, long>(UpdateKernel);
        _update(device.Elementwise(n), a.View<float>(parameters, n), a.View<float>(gradients, n), a.View<float>(m, n), a.View<float>(v, n),
            new AdamW.Rule(lr, beta1, beta2, eps, weightDecay, step, gradScale), zeroGradients ? 1 : 0, n);
    }

    private static void UpdateKernel(ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<float> m, ArrayView<float> v,
        AdamW.Rule rule, int zeroGradients, long n)
    {
        for (long i = KernelMath.ThreadIndex; i < n; i += KernelMath.ThreadCount)
        {
            float mi = m[i], vi = v[i];
            parameters[i] = rule.Apply(gradients[i], ref mi, ref vi, parameters[i]);
            m[i] = mi;
            v[i] = vi;
            if (zeroGradients != 0)
            {
                gradients[i] = 0f;
            }
        }
    }
}
