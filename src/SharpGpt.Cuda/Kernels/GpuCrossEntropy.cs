using ILGPU;
using ILGPU.Runtime;
using SharpGpt.Kernels;

namespace SharpGpt.Gpu.Kernels;

/// <summary>
/// Fused softmax + cross-entropy over the real vocabulary on the GPU, one warp per row: the
/// forward keeps each row's log-sum-exp (found in one pass over the row), the backward turns the
/// logits into their gradient in place, or writes it in bf16 beside them for bf16 products.
/// Padded columns never count and get a zero gradient; targets of -1 are masked.
/// </summary>
internal sealed unsafe class GpuCrossEntropy(GpuDevice device)
{
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int, int>? _forward;
    private Action<KernelConfig, ArrayView<float>, ArrayView<ushort>, int, ArrayView<float>, ArrayView<float>, ArrayView<int>, float, int, int, int>? _backward;

    // losses (N), lse (N) <- logits (N,Vp), targets (N)
    public void Forward(float* losses, float* lse, float* logits, int* targets, int rows, int v, int vp)
    {
        var a = device.Addresses;
        _forward ??= device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int, int>(ForwardKernel);
        _forward(device.WarpPerRow(rows), a.View<float>(losses, rows), a.View<float>(lse, rows), a.View<float>(logits, (long)rows * vp),
            a.View<int>(targets, rows), rows, v, vp);
    }

    // logits (N,Vp) <- d loss / d logits, each unmasked row's loss weighted by dloss
    public void Backward(float* logits, float* lse, int* targets, float dloss, int rows, int v, int vp) =>
        Backward(logits, logits, lse, targets, dloss, rows, v, vp);

    // gradient (N,Vp) fp32 (possibly the logits) or bf16 <- d loss / d logits
    public void Backward(TypedPointer gradient, float* logits, float* lse, int* targets, float dloss, int rows, int v, int vp)
    {
        var a = device.Addresses;
        long n = (long)rows * vp;
        _backward ??= device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<ushort>, int, ArrayView<float>, ArrayView<float>, ArrayView<int>, float, int, int, int>(BackwardKernel);
        _backward(device.WarpPerRow(rows), gradient.IsBf16 ? ArrayView<float>.Empty : a.View<float>(gradient.Fp32, n), gradient.IsBf16 ? a.View<ushort>(gradient.Bf16, n) : ArrayView<ushort>.Empty,
            gradient.IsBf16 ? 1 : 0, a.View<float>(logits, n), a.View<float>(lse, rows), a.View<int>(targets, rows), dloss, rows, v, vp);
    }

    private static void ForwardKernel(ArrayView<float> losses, ArrayView<float> lse, ArrayView<float> logits, ArrayView<int> targets, int rows, int v, int vp)
    {
        int lane = Warp.LaneIdx, width = Warp.WarpSize;
        for (int row = KernelMath.WarpIndex; row < rows; row += KernelMath.WarpCount)
        {
            long o = (long)row * vp;
            var lanes = RunningExpSum.Empty;
            for (int j = lane; j < v; j += width)
            {
                lanes = lanes.Add(logits[o + j]);
            }

            var total = lanes.WarpTotal();
            float l = total.Max + KernelMath.Log(total.Sum);
            if (lane == 0)
            {
                lse[row] = l;
                int target = targets[row];
                losses[row] = target < 0 ? 0f : l - logits[o + target];
            }
        }
    }

    // (softmax - one-hot) * dloss for the real columns of unmasked rows, zero elsewhere; written fp32
    // (possibly over the logits: each element is read, then written, by one lane) or bf16.
    private static void BackwardKernel(ArrayView<float> out32, ArrayView<ushort> out16, int bf16, ArrayView<float> logits, ArrayView<float> lse,
        ArrayView<int> targets, float dloss, int rows, int v, int vp)
    {
        int lane = Warp.LaneIdx, width = Warp.WarpSize;
        for (int row = KernelMath.WarpIndex; row < rows; row += KernelMath.WarpCount)
        {
            long o = (long)row * vp;
            int target = targets[row];
            float l = lse[row];
            for (int j = lane; j < vp; j += width)
            {
                float g = 0f;
                if (target >= 0 && j < v)
                {
                    g = KernelMath.Exp(logits[o + j] - l) * dloss;
                    if (j == target)
                    {
                        g -= dloss;
                    }
                }

                if (bf16 != 0)
                {
                    out16[o + j] = KernelMath.ToBf16(g);
                }
                else
                {
                    out32[o + j] = g;
                }
            }
        }
    }
}
