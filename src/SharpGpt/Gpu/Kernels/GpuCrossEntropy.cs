using ILGPU;
using ILGPU.Runtime;

namespace SharpGpt.Gpu.Kernels;

/// <summary>
/// Fused softmax + cross-entropy over the real vocabulary on the GPU, one warp per row: the
/// forward keeps each row's log-sum-exp, the backward turns the logits into their gradient in
/// place. Padded columns never count and get a zero gradient; targets of -1 are masked.
/// </summary>
internal sealed unsafe class GpuCrossEntropy(GpuDevice device)
{
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int, int>? _forward;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<int>, float, int, int, int>? _backward;

    // losses (N), lse (N) <- logits (N,Vp), targets (N)
    public void Forward(float* losses, float* lse, float* logits, int* targets, int rows, int v, int vp)
    {
        var a = device.Addresses;
        _forward ??= device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int, int>(ForwardKernel);
        _forward(device.WarpPerRow(rows), a.View<float>(losses, rows), a.View<float>(lse, rows), a.View<float>(logits, (long)rows * vp),
            a.View<int>(targets, rows), rows, v, vp);
    }

    // logits (N,Vp) <- d loss / d logits, each unmasked row's loss weighted by dloss
    public void Backward(float* logits, float* lse, int* targets, float dloss, int rows, int v, int vp)
    {
        var a = device.Addresses;
        _backward ??= device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<int>, float, int, int, int>(BackwardKernel);
        _backward(device.WarpPerRow(rows), a.View<float>(logits, (long)rows * vp), a.View<float>(lse, rows), a.View<int>(targets, rows), dloss, rows, v, vp);
    }

    private static void ForwardKernel(ArrayView<float> losses, ArrayView<float> lse, ArrayView<float> logits, ArrayView<int> targets, int rows, int v, int vp)
    {
        int lane = Warp.LaneIdx, width = Warp.WarpSize;
        for (int row = KernelMath.WarpIndex; row < rows; row += KernelMath.WarpCount)
        {
            long o = (long)row * vp;
            float max = float.NegativeInfinity;
            for (int j = lane; j < v; j += width)
            {
                max = MathF.Max(max, logits[o + j]);
            }

            max = KernelMath.WarpMax(max);
            float sum = 0;
            for (int j = lane; j < v; j += width)
            {
                sum += KernelMath.Exp(logits[o + j] - max);
            }

            float l = max + KernelMath.Log(KernelMath.WarpSum(sum));
            if (lane == 0)
            {
                lse[row] = l;
                int target = targets[row];
                losses[row] = target < 0 ? 0f : l - logits[o + target];
            }
        }
    }

    private static void BackwardKernel(ArrayView<float> logits, ArrayView<float> lse, ArrayView<int> targets, float dloss, int rows, int v, int vp)
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

                logits[o + j] = g;
            }
        }
    }
}
