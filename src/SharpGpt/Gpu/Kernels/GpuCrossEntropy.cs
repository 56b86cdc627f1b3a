using ILGPU;
using ILGPU.Runtime;

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
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<int>, float, int, int, int>? _backward;
    private Action<KernelConfig, ArrayView<ushort>, ArrayView<float>, ArrayView<float>, ArrayView<int>, float, int, int, int>? _backwardToBf16;

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

    // gradient (N,Vp) bf16 <- d loss / d logits, the logits left as they are
    public void BackwardToBf16(ushort* gradient, float* logits, float* lse, int* targets, float dloss, int rows, int v, int vp)
    {
        var a = device.Addresses;
        _backwardToBf16 ??= device.Accelerator.LoadStreamKernel<ArrayView<ushort>, ArrayView<float>, ArrayView<float>, ArrayView<int>, float, int, int, int>(BackwardToBf16Kernel);
        _backwardToBf16(device.WarpPerRow(rows), a.View<ushort>(gradient, (long)rows * vp), a.View<float>(logits, (long)rows * vp), a.View<float>(lse, rows),
            a.View<int>(targets, rows), dloss, rows, v, vp);
    }

    private static void ForwardKernel(ArrayView<float> losses, ArrayView<float> lse, ArrayView<float> logits, ArrayView<int> targets, int rows, int v, int vp)
    {
        int lane = Warp.LaneIdx, width = Warp.WarpSize;
        for (int row = KernelMath.WarpIndex; row < rows; row += KernelMath.WarpCount)
        {
            // One pass over the row: each lane keeps its maximum and its sum of exponentials relative to
            // it, rescaling the sum when the maximum grows; the lanes' sums are then brought to the row's.
            long o = (long)row * vp;
            float max = float.NegativeInfinity, sum = 0;
            for (int j = lane; j < v; j += width)
            {
                float x = logits[o + j];
                if (x > max)
                {
                    sum = (sum * KernelMath.Exp(max - x)) + 1f;
                    max = x;
                }
                else
                {
                    sum += KernelMath.Exp(x - max);
                }
            }

            float rowMax = KernelMath.WarpMax(max);
            float l = rowMax + KernelMath.Log(KernelMath.WarpSum(sum == 0 ? 0 : sum * KernelMath.Exp(max - rowMax)));
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
                logits[o + j] = Gradient(logits, o, j, target, l, dloss, v);
            }
        }
    }

    private static void BackwardToBf16Kernel(ArrayView<ushort> gradient, ArrayView<float> logits, ArrayView<float> lse, ArrayView<int> targets, float dloss, int rows, int v, int vp)
    {
        int lane = Warp.LaneIdx, width = Warp.WarpSize;
        for (int row = KernelMath.WarpIndex; row < rows; row += KernelMath.WarpCount)
        {
            long o = (long)row * vp;
            int target = targets[row];
            float l = lse[row];
            for (int j = lane; j < vp; j += width)
            {
                gradient[o + j] = KernelMath.ToBf16(Gradient(logits, o, j, target, l, dloss, v));
            }
        }
    }

    // (softmax - one-hot) * dloss for a real column of an unmasked row; zero otherwise.
    private static float Gradient(ArrayView<float> logits, long o, int j, int target, float lse, float dloss, int v)
    {
        if (target < 0 || j >= v)
        {
            return 0f;
        }

        float g = KernelMath.Exp(logits[o + j] - lse) * dloss;
        return j == target ? g - dloss : g;
    }
}
