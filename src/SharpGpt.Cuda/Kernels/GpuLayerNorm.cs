using ILGPU;
using ILGPU.Runtime;
using SharpGpt.Kernels;

namespace SharpGpt.Gpu.Kernels;

/// <summary>
/// LayerNorm over channels on the GPU, one warp per row (coalesced: lane i reads channels i, i + 32,
/// ...), with the residual add fused in front when asked; fp32 or bf16 output, fp32 statistics.
/// The backward's weight and bias gradients are summed per warp into partial rows and then down
/// the warps in a fixed order, without atomics.
/// </summary>
internal sealed unsafe class GpuLayerNorm(GpuDevice device, GpuReductions reductions, GpuWorkspace workspace)
{
    /// <summary>The most warps the backward uses: each keeps a partial row of 2C floats.</summary>
    internal const int MaxBackwardWarps = 1024;

    private Action<KernelConfig, ArrayView<float>, ArrayView<ushort>, int, ArrayView<float>, ArrayView<float>, ArrayView<float>,
        ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>? _forward;

    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
        ArrayView<float>, ArrayView<float>, int, int>? _backward;

    // out (N,C) fp32 or bf16, mean (N), rstd (N) <- inp (N,C), weight (C), bias (C); with residual inputs a, b: inp = a + b first (inp is then an output)
    public void Forward(TypedPointer output, float* mean, float* rstd, float* inp, float* a, float* b, float* weight, float* bias, int rows, int c)
    {
        var v = device.Addresses;
        long nc = (long)rows * c;
        bool residual = a != null;
        _forward ??= device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<ushort>, int, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(ForwardKernel);
        _forward(device.WarpPerRow(rows),
            output.IsBf16 ? ArrayView<float>.Empty : v.View<float>(output.Fp32, nc),
            output.IsBf16 ? v.View<ushort>(output.Bf16, nc) : ArrayView<ushort>.Empty,
            output.IsBf16 ? 1 : 0,
            v.View<float>(mean, rows), v.View<float>(rstd, rows), v.View<float>(inp, nc),
            residual ? v.View<float>(a, nc) : ArrayView<float>.Empty, residual ? v.View<float>(b, nc) : ArrayView<float>.Empty,
            v.View<float>(weight, c), v.View<float>(bias, c), residual ? 1 : 0, rows, c);
    }

    // dinp (N,C) +=, dweight (C) +=, dbias (C) += <- dout (N,C), inp (N,C), weight (C), mean, rstd
    public void Backward(float* dinp, float* dweight, float* dbias, float* dout, float* inp, float* weight, float* mean, float* rstd, int rows, int c)
    {
        var v = device.Addresses;
        long nc = (long)rows * c;
        int groups = Math.Clamp((Math.Min(rows, MaxBackwardWarps) + device.WarpsPerGroup - 1) / device.WarpsPerGroup, 1, device.MaxGroups);
        int warps = groups * device.WarpsPerGroup;
        var partials = v.View<float>(workspace.Get((long)warps * 2 * c), (long)warps * 2 * c);
        _backward ??= device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, int, int>(BackwardKernel);
        _backward(new KernelConfig(groups, device.GroupSize), v.View<float>(dinp, nc), partials, v.View<float>(dout, nc), v.View<float>(inp, nc),
            v.View<float>(weight, c), v.View<float>(mean, rows), v.View<float>(rstd, rows), rows, c);

        // Only the warps that had a row wrote a partial row.
        int used = Math.Min(rows, warps);
        reductions.SumColumns(v.View<float>(dweight, c), partials, used, c, 2 * c);
        reductions.SumColumns(v.View<float>(dbias, c), partials.SubView(c), used, c, 2 * c);
    }

    private static void ForwardKernel(ArrayView<float> out32, ArrayView<ushort> out16, int bf16, ArrayView<float> mean, ArrayView<float> rstd,
        ArrayView<float> inp, ArrayView<float> resA, ArrayView<float> resB, ArrayView<float> weight, ArrayView<float> bias, int residual, int rows, int c)
    {
        int lane = Warp.LaneIdx, width = Warp.WarpSize;
        for (int row = KernelMath.WarpIndex; row < rows; row += KernelMath.WarpCount)
        {
            int o = row * c;
            float sum = 0;
            for (int i = lane; i < c; i += width)
            {
                float x;
                if (residual != 0)
                {
                    x = resA[o + i] + resB[o + i];
                    inp[o + i] = x;
                }
                else
                {
                    x = inp[o + i];
                }

                sum += x;
            }

            float m = KernelMath.WarpSum(sum) / c;
            float squares = 0;
            for (int i = lane; i < c; i += width)
            {
                float d = inp[o + i] - m;
                squares += d * d;
            }

            float s = 1f / MathF.Sqrt((KernelMath.WarpSum(squares) / c) + LayerNorm.Epsilon);
            for (int i = lane; i < c; i += width)
            {
                float y = ((inp[o + i] - m) * s * weight[i]) + bias[i];
                if (bf16 != 0)
                {
                    out16[o + i] = KernelMath.ToBf16(y);
                }
                else
                {
                    out32[o + i] = y;
                }
            }

            if (lane == 0)
            {
                mean[row] = m;
                rstd[row] = s;
            }
        }
    }

    // Warp w writes its rows' weight and bias gradients into partial row w: [dweight (C), dbias (C)].
    private static void BackwardKernel(ArrayView<float> dinp, ArrayView<float> partials, ArrayView<float> dout, ArrayView<float> inp,
        ArrayView<float> weight, ArrayView<float> mean, ArrayView<float> rstd, int rows, int c)
    {
        int lane = Warp.LaneIdx, width = Warp.WarpSize, warp = KernelMath.WarpIndex;
        int p = warp * 2 * c;
        for (int row = warp; row < rows; row += KernelMath.WarpCount)
        {
            bool first = row == warp;
            int o = row * c;
            float m = mean[row], s = rstd[row];

            // dnorm = w * dout; dinp += (dnorm - mean(dnorm) - norm * mean(dnorm * norm)) * rstd
            float sumDnorm = 0, sumDnormNorm = 0;
            for (int i = lane; i < c; i += width)
            {
                float norm = (inp[o + i] - m) * s;
                float dnorm = weight[i] * dout[o + i];
                sumDnorm += dnorm;
                sumDnormNorm += dnorm * norm;
            }

            float meanDnorm = KernelMath.WarpSum(sumDnorm) / c;
            float meanDnormNorm = KernelMath.WarpSum(sumDnormNorm) / c;
            for (int i = lane; i < c; i += width)
            {
                float d = dout[o + i];
                float norm = (inp[o + i] - m) * s;
                float dnorm = weight[i] * d;
                dinp[o + i] += (dnorm - meanDnorm - (norm * meanDnormNorm)) * s;
                partials[p + i] = first ? d * norm : partials[p + i] + (d * norm);
                partials[p + c + i] = first ? d : partials[p + c + i] + d;
            }
        }
    }
}
