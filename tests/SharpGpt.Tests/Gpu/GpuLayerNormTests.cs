using SharpGpt.Gpu.Check;
namespace SharpGpt.Tests.Gpu;

public sealed unsafe class GpuLayerNormTests(EmulatedGpu gpu) : GpuTwinTest(gpu)
{
    [Theory]
    [InlineData(37, 48, false, false)]
    [InlineData(5, 23, true, false)]
    [InlineData(1, 48, false, false)]
    [InlineData(9, 40, true, true)]
    public void ForwardMatchesTheCpu(int rows, int c, bool residual, bool nvidiaWarps)
    {
        var rng = new Random(rows + c);
        using var twin = CreateTwin(nvidiaWarps);
        long nc = (long)rows * c;
        var weight = twin.Floats(DeviceArrays.Random(rng, c));
        var bias = twin.Floats(DeviceArrays.Random(rng, c));
        var inp = twin.Floats(DeviceArrays.Random(rng, nc, 3f));
        var a = twin.Floats(DeviceArrays.Random(rng, nc, 2f));
        var b = twin.Floats(DeviceArrays.Random(rng, nc, 2f));
        var output = twin.Zeros(nc);
        var output16 = twin.Bf16Zeros(nc);
        var mean = twin.Zeros(rows);
        var rstd = twin.Zeros(rows);
        if (residual)
        {
            twin.Cpu.LayerNormResidualForward(inp.Cpu, output.Cpu, mean.Cpu, rstd.Cpu, a.Cpu, b.Cpu, weight.Cpu, bias.Cpu, rows, c);
            twin.Gpu.LayerNormResidualForward(inp.Gpu, output.Gpu, mean.Gpu, rstd.Gpu, a.Gpu, b.Gpu, weight.Gpu, bias.Gpu, rows, c);
            twin.AssertEqual(inp, nc, "residual sum");
        }
        else
        {
            twin.Cpu.LayerNormForward(output.Cpu, mean.Cpu, rstd.Cpu, inp.Cpu, weight.Cpu, bias.Cpu, rows, c);
            twin.Gpu.LayerNormForward(output.Gpu, mean.Gpu, rstd.Gpu, inp.Gpu, weight.Gpu, bias.Gpu, rows, c);
        }

        twin.AssertClose(output, nc, 1e-5, 1e-5, "LayerNorm output");
        twin.AssertClose(mean, rows, 1e-5, 1e-6, "mean");
        twin.AssertClose(rstd, rows, 1e-5, 0, "rstd");

        // bf16 output: the same values rounded, so at most one bf16 step (2^-8 relative) apart.
        twin.Cpu.LayerNormForward(output16.Cpu, mean.Cpu, rstd.Cpu, inp.Cpu, weight.Cpu, bias.Cpu, rows, c);
        twin.Gpu.LayerNormForward(output16.Gpu, mean.Gpu, rstd.Gpu, inp.Gpu, weight.Gpu, bias.Gpu, rows, c);
        twin.AssertClose(output16, nc, 1.0 / 128, 1e-6, "bf16 LayerNorm output");
    }

    [Theory]
    [InlineData(37, 48, false)]
    [InlineData(5, 23, false)]
    [InlineData(2000, 20, false)]
    [InlineData(9, 40, true)]
    public void BackwardMatchesTheCpu(int rows, int c, bool nvidiaWarps)
    {
        var rng = new Random(rows * c);
        using var twin = CreateTwin(nvidiaWarps);
        long nc = (long)rows * c;
        var weight = twin.Floats(DeviceArrays.Random(rng, c));
        var bias = twin.Floats(DeviceArrays.Random(rng, c));
        var inp = twin.Floats(DeviceArrays.Random(rng, nc, 3f));
        var output = twin.Zeros(nc);
        var mean = twin.Zeros(rows);
        var rstd = twin.Zeros(rows);
        twin.Cpu.LayerNormForward(output.Cpu, mean.Cpu, rstd.Cpu, inp.Cpu, weight.Cpu, bias.Cpu, rows, c);
        twin.Gpu.LayerNormForward(output.Gpu, mean.Gpu, rstd.Gpu, inp.Gpu, weight.Gpu, bias.Gpu, rows, c);

        // Every gradient accumulates onto what is there.
        var dout = twin.Floats(DeviceArrays.Random(rng, nc));
        var dinp = twin.Floats(DeviceArrays.Random(rng, nc));
        var dweight = twin.Floats(DeviceArrays.Random(rng, c));
        var dbias = twin.Floats(DeviceArrays.Random(rng, c));
        twin.Cpu.LayerNormBackward(dinp.Cpu, dweight.Cpu, dbias.Cpu, dout.Cpu, inp.Cpu, weight.Cpu, mean.Cpu, rstd.Cpu, rows, c);
        twin.Gpu.LayerNormBackward(dinp.Gpu, dweight.Gpu, dbias.Gpu, dout.Gpu, inp.Gpu, weight.Gpu, mean.Gpu, rstd.Gpu, rows, c);
        twin.AssertClose(dinp, nc, 1e-4, 1e-5, "dinp");
        twin.AssertClose(dweight, c, 1e-4, 1e-4, "dweight");
        twin.AssertClose(dbias, c, 1e-4, 1e-4, "dbias");
    }
}
