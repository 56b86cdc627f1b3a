using ILGPU;
using ILGPU.Runtime;

namespace SharpGpt.Gpu.Kernels;

/// <summary>The column sums and the sum of squares, in fixed orders so that results repeat bit for bit.</summary>
internal sealed unsafe class GpuReductions(GpuDevice device)
{
    /// <summary>Groups of the sum of squares: enough to fill a GPU, few enough that the host adds the partials quickly.</summary>
    private const int SquareSumGroups = 256;

    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int, int>? _sumColumns;
    private Action<KernelConfig, ArrayView<double>, ArrayView<float>, long>? _squareSum;
    private double[] _hostPartials = [];

    /// <summary>Lanes of a warp that share a column, each summing every RowLanes-th row (at most the warp size).</summary>
    internal const int RowLanes = 8;

    /// <summary>target[j] += the sum over i &lt; count of partials[i * stride + j], for j &lt; width, in a fixed order.</summary>
    public void SumColumns(ArrayView<float> target, ArrayView<float> partials, int count, int width, int stride)
    {
        int columnsPerWarp = device.WarpSize / Math.Min(RowLanes, device.WarpSize);
        _sumColumns ??= device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int, int>(SumColumnsKernel);
        _sumColumns(device.WarpPerRow((width + columnsPerWarp - 1) / columnsPerWarp), target, partials, count, width, stride);
    }

    /// <summary>The sum of squares of n floats: one double partial per warp, added on the host in warp order.</summary>
    public double SquareSum(float* data, long n, GpuWorkspace workspace)
    {
        var config = new KernelConfig((int)Math.Clamp((n + device.GroupSize - 1) / device.GroupSize, 1, Math.Min(SquareSumGroups, device.MaxGroups)), device.GroupSize);
        int warps = config.GridDim.X * device.WarpsPerGroup;
        var partials = device.Addresses.View<double>(workspace.Get(2L * warps), warps);
        _squareSum ??= device.Accelerator.LoadStreamKernel<ArrayView<double>, ArrayView<float>, long>(SquareSumKernel);
        _squareSum(config, partials, device.Addresses.View<float>(data, n), n);
        if (_hostPartials.Length != warps)
        {
            _hostPartials = new double[warps];
        }

        partials.CopyToCPU(_hostPartials);
        double total = 0;
        foreach (double p in _hostPartials)
        {
            total += p;
        }

        return total;
    }

    // A column's sum is a chain of dependent loads if one thread makes it, and the LayerNorm weights'
    // have a thousand rows: here a warp takes a few adjacent columns (lane % columns) and splits their
    // rows among its lanes (lane / columns), each lane with four accumulators so four loads are in
    // flight; then the lanes of a column are added by shuffles. The order is fixed, so sums repeat.
    private static void SumColumnsKernel(ArrayView<float> target, ArrayView<float> partials, int count, int width, int stride)
    {
        int rowLanes = Math.Min(RowLanes, Warp.WarpSize), columns = Warp.WarpSize / rowLanes;
        int lane = Warp.LaneIdx, row = lane / columns;
        int columnWarps = (width + columns - 1) / columns;
        for (int w = KernelMath.WarpIndex; w < columnWarps; w += KernelMath.WarpCount)
        {
            int j = (w * columns) + (lane - (row * columns));
            float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
            if (j < width)
            {
                int i = row;
                for (; i + (3 * rowLanes) < count; i += 4 * rowLanes)
                {
                    a0 += partials[(i * stride) + j];
                    a1 += partials[((i + rowLanes) * stride) + j];
                    a2 += partials[((i + (2 * rowLanes)) * stride) + j];
                    a3 += partials[((i + (3 * rowLanes)) * stride) + j];
                }

                for (; i < count; i += rowLanes)
                {
                    a0 += partials[(i * stride) + j];
                }
            }

            float sum = (a0 + a1) + (a2 + a3);
            for (int offset = columns; offset < Warp.WarpSize; offset *= 2)
            {
                sum += Warp.ShuffleXor(sum, offset);
            }

            if (j < width && row == 0)
            {
                target[j] += sum;
            }
        }
    }

    // Four accumulators over interleaved strides keep four loads in flight per thread.
    private static void SquareSumKernel(ArrayView<double> partials, ArrayView<float> data, long n)
    {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        long stride = KernelMath.ThreadCount, i = KernelMath.ThreadIndex;
        for (; i + (3 * stride) < n; i += 4 * stride)
        {
            float x0 = data[i], x1 = data[i + stride], x2 = data[i + (2 * stride)], x3 = data[i + (3 * stride)];
            s0 += (double)x0 * x0;
            s1 += (double)x1 * x1;
            s2 += (double)x2 * x2;
            s3 += (double)x3 * x3;
        }

        for (; i < n; i += stride)
        {
            float x = data[i];
            s0 += (double)x * x;
        }

        double sum = KernelMath.WarpSum((s0 + s1) + (s2 + s3));
        if (Warp.LaneIdx == 0)
        {
            partials[KernelMath.WarpIndex] = sum;
        }
    }
}
