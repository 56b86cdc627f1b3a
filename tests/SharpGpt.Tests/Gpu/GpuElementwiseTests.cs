using SharpGpt.Gpu.Check;
using SharpGpt.Kernels;

namespace SharpGpt.Tests.Gpu;

public sealed unsafe class GpuElementwiseTests(EmulatedGpu gpu) : GpuTwinTest(gpu)
{
    [Theory]
    [InlineData(1001, false)]
    [InlineData(37, true)]
    public void GeluForwardAndBackwardMatchTheCpu(int n, bool bf16)
    {
        var rng = new Random(n);
        using var twin = CreateTwin();
        var inp = twin.Floats(DeviceArrays.Random(rng, n, 6f));
        var derivative = twin.Zeros(n);
        if (bf16)
        {
            var output = twin.Bf16Zeros(n);
            twin.Cpu.GeluForward(output.Cpu, derivative.Cpu, inp.Cpu, n);
            twin.Gpu.GeluForward(output.Gpu, derivative.Gpu, inp.Gpu, n);
            twin.AssertClose(output, n, 1.0 / 128, 1e-6, "GELU (bf16)");
        }
        else
        {
            var output = twin.Zeros(n);
            twin.Cpu.GeluForward(output.Cpu, derivative.Cpu, inp.Cpu, n);
            twin.Gpu.GeluForward(output.Gpu, derivative.Gpu, inp.Gpu, n);
            twin.AssertClose(output, n, 1e-5, 1e-6, "GELU");
            var plain = twin.Zeros(n);
            twin.Cpu.GeluForward(plain.Cpu, inp.Cpu, n);
            twin.Gpu.GeluForward(plain.Gpu, inp.Gpu, n);
            twin.AssertClose(plain, n, 1e-5, 1e-6, "GELU without derivative");
        }

        twin.AssertClose(derivative, n, 1e-4, 1e-6, "GELU'");
        var dout = twin.Floats(DeviceArrays.Random(rng, n));
        var dinp = twin.Zeros(n);
        twin.Cpu.GeluBackward(dinp.Cpu, derivative.Cpu, dout.Cpu, n);
        twin.Gpu.GeluBackward(dinp.Gpu, derivative.Gpu, dout.Gpu, n);
        twin.AssertClose(dinp, n, 1e-4, 1e-6, "GELU backward");
    }

    [Fact]
    public void ResidualIsTheCpusBitForBit()
    {
        var rng = new Random(5);
        using var twin = CreateTwin();
        const int n = 777;
        var a = twin.Floats(DeviceArrays.Random(rng, n));
        var b = twin.Floats(DeviceArrays.Random(rng, n));
        var output = twin.Zeros(n);
        twin.Cpu.ResidualForward(output.Cpu, a.Cpu, b.Cpu, n);
        twin.Gpu.ResidualForward(output.Gpu, a.Gpu, b.Gpu, n);
        twin.AssertEqual(output, n, "residual");
    }

    [Fact]
    public void Bf16ConversionsAreTheCpusBitForBit()
    {
        var rng = new Random(6);
        using var twin = CreateTwin();
        float[] values =
        [
            .. DeviceArrays.Random(rng, 500, 100f),
            0f, -0f, float.Epsilon, -float.Epsilon, float.MaxValue, float.MinValue, float.PositiveInfinity, float.NegativeInfinity, float.NaN,
            BitConverter.Int32BitsToSingle(0x3F80_8000), BitConverter.Int32BitsToSingle(0x3F81_8000), // ties: to even, down and up
            BitConverter.Int32BitsToSingle(0x7F7F_FFFF), BitConverter.Int32BitsToSingle(0x7FC0_0001), BitConverter.Int32BitsToSingle(0x7F80_0001),
        ];
        var fp32 = twin.Floats(values);
        var bf16 = twin.Bf16Zeros(values.Length);
        twin.Cpu.Convert(bf16.Cpu, fp32.Cpu, values.Length);
        twin.Gpu.Convert(bf16.Gpu, fp32.Gpu, values.Length);
        var cpuBits = twin.Cpu.ToArray(bf16.Cpu, values.Length);
        var gpuBits = twin.Gpu.ToArray(bf16.Gpu, values.Length);
        Assert.Equal(cpuBits, gpuBits);
        Assert.Equal([.. values.Select(BFloat16.FromFloat)], gpuBits);

        var back = twin.Zeros(values.Length);
        twin.Cpu.Convert(back.Cpu, bf16.Cpu, values.Length);
        twin.Gpu.Convert(back.Gpu, bf16.Gpu, values.Length);
        twin.AssertEqual(back, values.Length, "bf16 to fp32");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GatherRowsPicksTheRowsGiven(bool bf16)
    {
        var rng = new Random(7);
        using var twin = CreateTwin();
        const int rows = 11, width = 13;
        int[] picked = [10, 0, 3, 3, 7];
        var indices = twin.Ints(picked);
        float[] data = DeviceArrays.Random(rng, rows * width);
        if (bf16)
        {
            var source = twin.Bf16(data);
            var target = twin.Bf16Zeros(picked.Length * width);
            twin.Cpu.GatherRows(target.Cpu, source.Cpu, indices.Cpu, picked.Length, width);
            twin.Gpu.GatherRows(target.Gpu, source.Gpu, indices.Gpu, picked.Length, width);
            var (c, g) = twin.Read(target, picked.Length * width);
            Assert.Equal(c, g);
        }
        else
        {
            var source = twin.Floats(data);
            var target = twin.Zeros(picked.Length * width);
            twin.Cpu.GatherRows(target.Cpu, source.Cpu, indices.Cpu, picked.Length, width);
            twin.Gpu.GatherRows(target.Gpu, source.Gpu, indices.Gpu, picked.Length, width);
            twin.AssertEqual(target, picked.Length * width, "gathered rows");
            var (_, g) = twin.Read(target, picked.Length * width);
            Assert.Equal(data.AsSpan(7 * width, width).ToArray(), g.AsSpan(4 * width, width).ToArray());
        }
    }
}
