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

    /// <summary>target[j] += the sum over i &lt; count of partials[i * stride + j], for j &lt; width, i in order.</summary>
    public void SumColumns(ArrayView<float> target, ArrayView<float> partials, int count, int width, int stride)
    {
        _sumColumns ??= device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int, int>(SumColumnsKernel);
        _sumColumns(device.Elementwise(width), target, partials, count, width, stride);
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

    private static void SumColumnsKernel(ArrayView<float> target, ArrayView<float> partials, int count, int width, int stride)
    {
        for (int j = KernelMath.ThreadIndex; j < width; j += KernelMath.ThreadCount)
        {
            float sum = 0;
            for (int i = 0; i < count; i++)
            {
                sum += partials[(i * stride) + j];
            }

            target[j] += sum;
        }
    }

    private static void SquareSumKernel(ArrayView<double> partials, ArrayView<float> data, long n)
    {
        double sum = 0;
        for (long i = KernelMath.ThreadIndex; i < n; i += KernelMath.ThreadCount)
        {
            float x = data[i];
            sum += (double)x * x;
        }

        sum = KernelMath.WarpSum(sum);
        if (Warp.LaneIdx == 0)
        {
            partials[KernelMath.WarpIndex] = sum;
        }
    }
}
