using ILGPU;
using ILGPU.Runtime;
using SharpGpt.Kernels;

namespace SharpGpt.Gpu.Kernels;

/// <summary>Row gathers, fp32 or bf16: out row r = inp row indices[r].</summary>
internal sealed unsafe class GpuRows(GpuDevice device)
{
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int>? _gather32;
    private Action<KernelConfig, ArrayView<ushort>, ArrayView<ushort>, ArrayView<int>, int, int>? _gather16;

    public void Gather(TypedPointer output, TypedPointer inp, int* rowIndices, int rows, int width)
    {
        if (output.IsBf16 != inp.IsBf16)
        {
            throw new ArgumentException("GatherRows copies rows as they are: output and input must both be fp32 or both bf16.");
        }

        var v = device.Addresses;
        long n = (long)rows * width;
        var indices = v.View<int>(rowIndices, rows);
        if (inp.IsBf16)
        {
            _gather16 ??= device.Accelerator.LoadStreamKernel<ArrayView<ushort>, ArrayView<ushort>, ArrayView<int>, int, int>(GatherKernel);
            _gather16(device.Elementwise(n), v.View<ushort>(output.Bf16, n), v.ViewToEnd<ushort>(inp.Bf16), indices, rows, width);
        }
        else
        {
            _gather32 ??= device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int>(GatherKernel);
            _gather32(device.Elementwise(n), v.View<float>(output.Fp32, n), v.ViewToEnd<float>(inp.Fp32), indices, rows, width);
        }
    }

    private static void GatherKernel<T>(ArrayView<T> output, ArrayView<T> inp, ArrayView<int> indices, int rows, int width)
        where T : unmanaged
    {
        for (int i = KernelMath.ThreadIndex; i < rows * width; i += KernelMath.ThreadCount)
        {
            int r = i / width;
            output[i] = inp[(indices[r] * width) + (i - (r * width))];
        }
    }
}
