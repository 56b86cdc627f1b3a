using SharpGpt.Gpu.Check;
using SharpGpt.Kernels;

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
        var (logits, targets, losses, lse) = Forward(twin, rng, rows, v, vp, 8f, maskedEvery: 4);
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

    /// <summary>The classifier's backward (cross-entropy, then the lm_head's products): in bf16 the GPU writes the
    /// logits' gradient once, in bf16, for the products; the CPU computes the fp32 gradient and its products
    /// on the bf16 operands. They differ by the gradient's rounding.</summary>
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void ClassifierBackwardMatchesTheCpu(bool bf16, bool nvidiaWarps)
    {
        const int rows = 21, c = 32, v = 97, vp = 112;
        var rng = new Random(rows * v);
        using var twin = CreateTwin(nvidiaWarps);
        var (logits, targets, _, lse) = Forward(twin, rng, rows, v, vp, 6f, maskedEvery: 5);
        float[] lnfData = DeviceArrays.Random(rng, (long)rows * c), wteData = DeviceArrays.Random(rng, (long)vp * c);
        var dlnf = twin.Zeros((long)rows * c);
        var dwte = twin.Floats(DeviceArrays.Random(rng, (long)vp * c)); // accumulated into
        (TypedPointer Cpu, TypedPointer Gpu) lnf, wte;
        if (bf16)
        {
            var (l16, w16) = (twin.Bf16(lnfData), twin.Bf16(wteData));
            lnf = ((TypedPointer)l16.Cpu, (TypedPointer)l16.Gpu);
            wte = ((TypedPointer)w16.Cpu, (TypedPointer)w16.Gpu);
        }
        else
        {
            var (l32, w32) = (twin.Floats(lnfData), twin.Floats(wteData));
            lnf = ((TypedPointer)l32.Cpu, (TypedPointer)l32.Gpu);
            wte = ((TypedPointer)w32.Cpu, (TypedPointer)w32.Gpu);
        }

        twin.Cpu.ClassifierBackward(dlnf.Cpu, dwte.Cpu, logits.Cpu, lse.Cpu, targets.Cpu, 0.25f, lnf.Cpu, wte.Cpu, rows, c, v, vp);
        twin.Gpu.ClassifierBackward(dlnf.Gpu, dwte.Gpu, logits.Gpu, lse.Gpu, targets.Gpu, 0.25f, lnf.Gpu, wte.Gpu, rows, c, v, vp);
        twin.AssertClose(dlnf, (long)rows * c, bf16 ? 1e-2 : 1e-5, bf16 ? 2e-3 : 1e-6, "dlnf");
        twin.AssertClose(dwte, (long)vp * c, bf16 ? 1e-2 : 1e-5, bf16 ? 2e-3 : 1e-6, "dwte");
    }

    // Random logits and targets (every maskedEvery-th row from the second masked), and the cross-entropy forward on both.
    private static (FloatPair Logits, IntPair Targets, FloatPair Losses, FloatPair Lse) Forward(KernelTwin twin, Random rng, int rows, int v, int vp, float scale, int maskedEvery)
    {
        var logits = twin.Floats(DeviceArrays.Random(rng, (long)rows * vp, scale));
        var targets = twin.Ints([.. Enumerable.Range(0, rows).Select(i => i % maskedEvery == 1 ? -1 : rng.Next(v))]);
        var losses = twin.Zeros(rows);
        var lse = twin.Zeros(rows);
        twin.Cpu.CrossEntropyForward(losses.Cpu, lse.Cpu, logits.Cpu, targets.Cpu, rows, v, vp);
        twin.Gpu.CrossEntropyForward(losses.Gpu, lse.Gpu, logits.Gpu, targets.Gpu, rows, v, vp);
        return (logits, targets, losses, lse);
    }
}
