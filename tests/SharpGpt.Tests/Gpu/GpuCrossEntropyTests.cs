using SharpGpt.Gpu.Check;
namespace SharpGpt.Tests.Gpu;

public sealed unsafe class GpuCrossEntropyTests(EmulatedGpu gpu) : GpuTwinTest(gpu)
{
    [Theory]
    [InlineData(13, 50, 64, false)]
    [InlineData(3, 65, 80, false)]
    [InlineData(6, 97, 128, true)]
    public void ForwardAndBackwardMatchTheCpu(int rows, int v, int vp, bool nvidiaWarps)
    {
        var rng = new Random(rows + v);
        using var twin = CreateTwin(nvidiaWarps);
        float[] logitData = DeviceArrays.Random(rng, (long)rows * vp, 8f);
        int[] targetData = [.. Enumerable.Range(0, rows).Select(i => i % 4 == 1 ? -1 : rng.Next(v))];
        var logits = twin.Floats(logitData);
        var targets = twin.Ints(targetData);
        var losses = twin.Zeros(rows);
        var lse = twin.Zeros(rows);
        twin.Cpu.CrossEntropyForward(losses.Cpu, lse.Cpu, logits.Cpu, targets.Cpu, rows, v, vp);
        twin.Gpu.CrossEntropyForward(losses.Gpu, lse.Gpu, logits.Gpu, targets.Gpu, rows, v, vp);
        twin.AssertClose(lse, rows, 1e-6, 1e-5, "log-sum-exp");
        twin.AssertClose(losses, rows, 1e-5, 1e-5, "losses");
        var (_, gpuLosses) = twin.Read(losses, rows);
        Assert.Equal(0f, gpuLosses[1]); // masked

        twin.Cpu.CrossEntropyBackward(logits.Cpu, lse.Cpu, targets.Cpu, 0.37f, rows, v, vp);
        twin.Gpu.CrossEntropyBackward(logits.Gpu, lse.Gpu, targets.Gpu, 0.37f, rows, v, vp);
        twin.AssertClose(logits, (long)rows * vp, 1e-5, 1e-7, "dlogits");
        var (_, gpuGrad) = twin.Read(logits, (long)rows * vp);
        Assert.All(gpuGrad.AsSpan(vp, vp).ToArray(), g => Assert.Equal(0f, g)); // masked row
        Assert.All(gpuGrad.AsSpan(v, vp - v).ToArray(), g => Assert.Equal(0f, g)); // padding
    }
}
