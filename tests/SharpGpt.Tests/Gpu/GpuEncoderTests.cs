using SharpGpt.Gpu.Check;
namespace SharpGpt.Tests.Gpu;

public sealed unsafe class GpuEncoderTests(EmulatedGpu gpu) : GpuTwinTest(gpu)
{
    [Theory]
    [InlineData(3, 7, 48, 50, false)]
    [InlineData(2, 23, 16, 33, false)]
    [InlineData(1, 1, 20, 7, false)]
    [InlineData(2, 5, 40, 9, true)]
    public void ForwardAndBackwardAreTheCpuKernelsBitForBit(int b, int t, int c, int vp, bool nvidiaWarps)
    {
        var rng = new Random(b + (10 * t) + c);
        using var twin = CreateTwin(nvidiaWarps);
        // Few distinct tokens, so the gradient sums repeated rows.
        int[] ids = [.. Enumerable.Range(0, b * t).Select(_ => rng.Next(Math.Min(vp, 5)))];
        var inputs = twin.Ints(ids);
        var wte = twin.Floats(DeviceArrays.Random(rng, (long)vp * c));
        var wpe = twin.Floats(DeviceArrays.Random(rng, (long)t * c));
        var output = twin.Zeros((long)b * t * c);
        twin.Cpu.EncoderForward(output.Cpu, inputs.Cpu, wte.Cpu, wpe.Cpu, b, t, c);
        twin.Gpu.EncoderForward(output.Gpu, inputs.Gpu, wte.Gpu, wpe.Gpu, b, t, c);
        twin.AssertEqual(output, (long)b * t * c, "encoder output");

        var dout = twin.Floats(DeviceArrays.Random(rng, (long)b * t * c));
        var dwte = twin.Floats(DeviceArrays.Random(rng, (long)vp * c));
        var dwpe = twin.Floats(DeviceArrays.Random(rng, (long)t * c));
        twin.Cpu.EncoderBackward(dwte.Cpu, dwpe.Cpu, dout.Cpu, inputs.Cpu, b, t, c);
        twin.Gpu.EncoderBackward(dwte.Gpu, dwpe.Gpu, dout.Gpu, inputs.Gpu, b, t, c);
        twin.AssertEqual(dwte, (long)vp * c, "dwte");
        twin.AssertEqual(dwpe, (long)t * c, "dwpe");
    }
}
