using ILGPU;
using ILGPU.Runtime;
using SharpGpt.Kernels;

namespace SharpGpt.Gpu.Kernels;

/// <summary>fp32 to bf16 (round to nearest even, in integer arithmetic) and bf16 to fp32 (exact), element-wise.</summary>
internal sealed unsafe class GpuConvert(GpuDevice device)
{
    private Action<KernelConfig, ArrayView<ushort>, ArrayView<float>, long>? _toBf16;
    private Action<KernelConfig, ArrayView<float>, ArrayView<ushort>, long>? _toFp32;

    public void Convert(TypedPointer output, TypedPointer inp, long n)
    {
        var v = device.Addresses;
        if (output.IsBf16 == inp.IsBf16)
        {
            throw new ArgumentException("Convert goes between fp32 and bf16: the output and the input are of one type.");
        }

        if (output.IsBf16)
        {
            _toBf16 ??= device.Accelerator.LoadStreamKernel<ArrayView<ushort>, ArrayView<float>, long>(ToBf16Kernel);
            _toBf16(device.Elementwise(n), v.View<ushort>(output.Bf16, n), v.View<float>(inp.Fp32, n), n);
        }
        else
        {
            _toFp32 ??= device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<ushort>, long>(ToFp32Kernel);
            _toFp32(device.Elementwise(n), v.View<float>(output.Fp32, n), v.View<ushort>(inp.Bf16, n), n);
        }
    }

    private static void ToBf16Kernel(ArrayView<ushort> output, ArrayView<float> inp, long n)
    {
        for (long i = KernelMath.ThreadIndex; i < n; i += KernelMath.ThreadCount)
        {
            output[i] = KernelMath.ToBf16(inp[i]);
        }
    }

    private static void ToFp32Kernel(ArrayView<float> output, ArrayView<ushort> inp, long n)
    {
        for (long i = KernelMath.ThreadIndex; i < n; i += KernelMath.ThreadCount)
        {
            output[i] = KernelMath.FromBf16(inp[i]);
        }
    }
}
