using SharpGpt.Gpu.Kernels;
using SharpGpt.Kernels;

namespace SharpGpt.Tests.Gpu;

/// <summary>The column sums the LayerNorm and bias gradients end with: every column of every row,
/// added to the target, in an order that repeats; at widths and counts around the warp's split.</summary>
[Collection(EmulatedGpuCollection.Name)]
public sealed unsafe class GpuReductionsTests(EmulatedGpu gpu)
{
    [Theory]
    [InlineData(1, 1, 1, false)]
    [InlineData(5, 7, 9, false)]
    [InlineData(33, 48, 96, false)]
    [InlineData(70, 13, 13, true)]     // warps of 32: 4 columns a warp, rows split over 8 lanes
    [InlineData(1024, 6, 12, true)]    // the LayerNorm backward's count
    public void SumColumnsAddsEveryRowOfEachColumnToItsTarget(int count, int width, int stride, bool nvidiaWarps)
    {
        var kernels = nvidiaWarps ? gpu.NvidiaShaped : gpu.Kernels;
        var device = nvidiaWarps ? gpu.NvidiaShapedDevice : gpu.Device;
        var rng = new Random((count * 31) + width);
        float[] partials = DeviceArrays.Random(rng, (long)count * stride), target = DeviceArrays.Random(rng, width);
        using var p = DeviceArrays.Upload(kernels, partials);
        using var t1 = DeviceArrays.Upload(kernels, target);
        using var t2 = DeviceArrays.Upload(kernels, target);
        var reductions = new GpuReductions(device);
        reductions.SumColumns(device.Addresses.View<float>(t1.Pointer, width), device.Addresses.View<float>(p.Pointer, (long)count * stride), count, width, stride);
        reductions.SumColumns(device.Addresses.View<float>(t2.Pointer, width), device.Addresses.View<float>(p.Pointer, (long)count * stride), count, width, stride);

        var expected = new float[width];
        for (int j = 0; j < width; j++)
        {
            double sum = target[j];
            for (int i = 0; i < count; i++)
            {
                sum += partials[(i * stride) + j];
            }

            expected[j] = (float)sum;
        }

        float[] first = kernels.ToArray(t1.Pointer, width);
        DeviceArrays.AssertClose(expected, first, 1e-5, 1e-5, "column sums");
        Assert.Equal(first, kernels.ToArray(t2.Pointer, width));   // bit for bit, run to run
    }
}
