using SharpGpt.Gpu.Check;
using SharpGpt.Kernels;

namespace SharpGpt.Tests.Gpu;

public sealed unsafe class GpuOptimizerTests(EmulatedGpu gpu) : GpuTwinTest(gpu)
{
    /// <summary>The GPU runs the CPU's own update rule, so each element gets the same bits.</summary>
    [Theory]
    [InlineData(1000, 1, 0.1f, true)]
    [InlineData(37, 5, 0f, false)]
    public void AdamWIsTheCpusBitForBit(int n, int step, float weightDecay, bool zeroGradients)
    {
        var rng = new Random(n + step);
        using var twin = CreateTwin();
        var p = twin.Floats(DeviceArrays.Random(rng, n));
        var g = twin.Floats(DeviceArrays.Random(rng, n, 3f));
        var m = twin.Floats(DeviceArrays.Random(rng, n, 0.1f));
        var v = twin.Floats([.. DeviceArrays.Random(rng, n, 0.1f).Select(MathF.Abs)]);
        twin.Cpu.AdamWUpdate(p.Cpu, g.Cpu, m.Cpu, v.Cpu, n, 6e-4f, 0.9f, 0.95f, 1e-8f, weightDecay, step, 0.25f, zeroGradients);
        twin.Gpu.AdamWUpdate(p.Gpu, g.Gpu, m.Gpu, v.Gpu, n, 6e-4f, 0.9f, 0.95f, 1e-8f, weightDecay, step, 0.25f, zeroGradients);
        twin.AssertEqual(p, n, "weights");
        twin.AssertEqual(m, n, "first moments");
        twin.AssertEqual(v, n, "second moments");
        twin.AssertEqual(g, n, "gradients");
        var (_, gradients) = twin.Read(g, n);
        Assert.Equal(zeroGradients, gradients.All(x => x == 0));
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(100_003, false)]
    [InlineData(5000, true)]
    public void SquareSumMatchesTheCpuAndRepeats(int n, bool nvidiaWarps)
    {
        var rng = new Random(n);
        using var twin = CreateTwin(nvidiaWarps);
        float[] data = DeviceArrays.Random(rng, n, 2f);
        var x = twin.Floats(data);
        double exact = data.Sum(v => (double)v * v);
        double cpu = twin.Cpu.SquareSum(x.Cpu, n), gpu = twin.Gpu.SquareSum(x.Gpu, n);
        Assert.Equal(exact, gpu, exact * 1e-12);
        Assert.Equal(cpu, gpu, exact * 1e-6);
        Assert.Equal(gpu, twin.Gpu.SquareSum(x.Gpu, n)); // identical run to run
    }
}
