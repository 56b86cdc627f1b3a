using SharpGpt.Gpu.Check;
using SharpGpt.Kernels;

namespace SharpGpt.Tests.Gpu;

public sealed unsafe class GpuMatmulTests(EmulatedGpu gpu) : GpuTwinTest(gpu)
{
    [Theory]
    [InlineData(37, 48, 40, true, false)]
    [InlineData(5, 23, 7, false, false)]
    [InlineData(1, 16, 144, true, false)]
    [InlineData(23, 48, 144, true, true)]
    [InlineData(37, 48, 40, true, true)]
    public void ForwardAndBackwardMatchTheCpuInFp32(int rows, int c, int oc, bool bias, bool nvidiaWarps)
    {
        var rng = new Random(rows + c + oc);
        using var twin = CreateTwin(nvidiaWarps);
        // The compact device adds the bias in the product's epilogue, the NVIDIA-shaped one in its own kernel.
        Assert.Contains(nvidiaWarps ? "bias epilogue off" : "bias epilogue on", (nvidiaWarps ? Gpu.NvidiaShapedDevice : Gpu.Device).Blas.Name);
        long nIn = (long)rows * c, nOut = (long)rows * oc;
        var inp = twin.Floats(DeviceArrays.Random(rng, nIn));
        var weight = twin.Floats(DeviceArrays.Random(rng, (long)oc * c));
        var b = bias ? twin.Floats(DeviceArrays.Random(rng, oc)) : new FloatPair(null, null);
        var output = twin.Floats(DeviceArrays.Random(rng, nOut));
        twin.Cpu.MatmulForward(output.Cpu, inp.Cpu, weight.Cpu, b.Cpu, rows, c, oc);
        twin.Gpu.MatmulForward(output.Gpu, inp.Gpu, weight.Gpu, b.Gpu, rows, c, oc);
        twin.AssertClose(output, nOut, 1e-5, 1e-5, "output");

        var dout = twin.Floats(DeviceArrays.Random(rng, nOut));
        var dinp = twin.Floats(DeviceArrays.Random(rng, nIn)); // overwritten
        var dweight = twin.Floats(DeviceArrays.Random(rng, (long)oc * c)); // accumulated
        var dbias = bias ? twin.Floats(DeviceArrays.Random(rng, oc)) : new FloatPair(null, null);
        twin.Cpu.MatmulBackward(dinp.Cpu, dweight.Cpu, dbias.Cpu, dout.Cpu, inp.Cpu, weight.Cpu, rows, c, oc);
        twin.Gpu.MatmulBackward(dinp.Gpu, dweight.Gpu, dbias.Gpu, dout.Gpu, inp.Gpu, weight.Gpu, rows, c, oc);
        twin.AssertClose(dinp, nIn, 1e-5, 1e-5, "dinp");
        twin.AssertClose(dweight, (long)oc * c, 1e-5, 1e-5, "dweight");
        if (bias)
        {
            twin.AssertClose(dbias, oc, 1e-5, 1e-5, "dbias");
        }
    }

    /// <summary>In bf16 both GEMM operands are bf16, as cuBLAS wants, so the GPU rounds the fp32 output
    /// gradient to bf16 before the backward products: the CPU, given that same rounded gradient,
    /// computes the same sums (in another order).</summary>
    [Theory]
    [InlineData(37, 48, 40)]
    [InlineData(300, 20, 33)]
    public void Bf16ProductsAreThoseOfTheRoundedOperands(int rows, int c, int oc)
    {
        var rng = new Random(rows * oc);
        using var twin = CreateTwin();
        long nIn = (long)rows * c, nOut = (long)rows * oc;
        var inp = twin.Bf16(DeviceArrays.Random(rng, nIn));
        var weight = twin.Bf16(DeviceArrays.Random(rng, (long)oc * c));
        var bias = twin.Floats(DeviceArrays.Random(rng, oc));
        var output = twin.Zeros(nOut);
        twin.Cpu.MatmulForward(output.Cpu, inp.Cpu, weight.Cpu, bias.Cpu, rows, c, oc);
        twin.Gpu.MatmulForward(output.Gpu, inp.Gpu, weight.Gpu, bias.Gpu, rows, c, oc);
        twin.AssertClose(output, nOut, 1e-5, 1e-5, "output");

        float[] gradient = DeviceArrays.Random(rng, nOut);
        float[] rounded = [.. gradient.Select(x => BFloat16.ToFloat(BFloat16.FromFloat(x)))];
        var doutCpu = twin.Floats(rounded);
        var doutGpu = twin.Floats(gradient);
        var dinp = twin.Zeros(nIn);
        var dweight = twin.Zeros((long)oc * c);
        var dbias = twin.Zeros(oc);
        twin.Cpu.MatmulBackward(dinp.Cpu, dweight.Cpu, dbias.Cpu, doutCpu.Cpu, inp.Cpu, weight.Cpu, rows, c, oc);
        twin.Gpu.MatmulBackward(dinp.Gpu, dweight.Gpu, dbias.Gpu, doutGpu.Gpu, inp.Gpu, weight.Gpu, rows, c, oc);
        twin.AssertClose(dinp, nIn, 1e-5, 1e-5, "dinp");
        twin.AssertClose(dweight, (long)oc * c, 1e-5, 1e-4, "dweight");

        // The bias gradient sums the fp32 gradient itself.
        var (_, gpuBias) = twin.Read(dbias, oc);
        var expected = new float[oc];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < oc; j++)
            {
                expected[j] += gradient[(r * oc) + j];
            }
        }

        DeviceArrays.AssertClose(expected, gpuBias, 1e-5, 1e-4, "dbias");
    }

    [Theory]
    [InlineData(37, 48, 192, false)]
    [InlineData(7, 16, 64, true)]
    public void FusedGeluMatchesTheCpu(int rows, int c, int oc, bool bf16)
    {
        var rng = new Random(rows + oc);
        using var twin = CreateTwin();
        long nIn = (long)rows * c, nOut = (long)rows * oc;
        float[] x = DeviceArrays.Random(rng, nIn, 2f), w = DeviceArrays.Random(rng, (long)oc * c);
        var bias = twin.Floats(DeviceArrays.Random(rng, oc));
        var derivative = twin.Zeros(nOut);
        if (bf16)
        {
            var inp = twin.Bf16(x);
            var weight = twin.Bf16(w);
            var output = twin.Bf16Zeros(nOut);
            twin.Cpu.MatmulGeluForward(derivative.Cpu, output.Cpu, inp.Cpu, weight.Cpu, bias.Cpu, rows, c, oc);
            twin.Gpu.MatmulGeluForward(derivative.Gpu, output.Gpu, inp.Gpu, weight.Gpu, bias.Gpu, rows, c, oc);
            twin.AssertClose(output, nOut, 1.0 / 128, 1e-5, "GELU output (bf16)");
        }
        else
        {
            var inp = twin.Floats(x);
            var weight = twin.Floats(w);
            var output = twin.Zeros(nOut);
            twin.Cpu.MatmulGeluForward(derivative.Cpu, output.Cpu, inp.Cpu, weight.Cpu, bias.Cpu, rows, c, oc);
            twin.Gpu.MatmulGeluForward(derivative.Gpu, output.Gpu, inp.Gpu, weight.Gpu, bias.Gpu, rows, c, oc);
            twin.AssertClose(output, nOut, 1e-5, 1e-5, "GELU output");
        }

        twin.AssertClose(derivative, nOut, 1e-4, 1e-5, "GELU derivative");
    }
}
