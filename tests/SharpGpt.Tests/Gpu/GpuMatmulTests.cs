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
        Assert.Contains(nvidiaWarps ? "epilogues off" : "epilogues on", (nvidiaWarps ? Gpu.NvidiaShapedDevice : Gpu.Device).Blas.Name);
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

    /// <summary>The fc layer with GELU, forward and backward, each backend with its own saved state (the CPU
    /// keeps GELU'(x), the GPU x): through cuBLASLt's GELU epilogue on the compact device, through the
    /// GELU kernel on the NVIDIA-shaped one, which declines epilogues.</summary>
    [Theory]
    [InlineData(37, 48, 192, false, false)]
    [InlineData(7, 16, 64, true, false)]
    [InlineData(37, 48, 192, false, true)]
    [InlineData(7, 16, 64, true, true)]
    public void FusedGeluMatchesTheCpu(int rows, int c, int oc, bool bf16, bool nvidiaWarps)
    {
        var rng = new Random(rows + oc);
        using var twin = CreateTwin(nvidiaWarps);
        long nIn = (long)rows * c, nOut = (long)rows * oc;
        float[] x = DeviceArrays.Random(rng, nIn, 2f), w = DeviceArrays.Random(rng, (long)oc * c);
        var bias = twin.Floats(DeviceArrays.Random(rng, oc));
        var state = twin.Zeros(nOut);
        (TypedPointer Cpu, TypedPointer Gpu) inp, weight, output;
        if (bf16)
        {
            var (i16, w16, o16) = (twin.Bf16(x), twin.Bf16(w), twin.Bf16Zeros(nOut));
            inp = ((TypedPointer)i16.Cpu, (TypedPointer)i16.Gpu);
            weight = ((TypedPointer)w16.Cpu, (TypedPointer)w16.Gpu);
            output = ((TypedPointer)o16.Cpu, (TypedPointer)o16.Gpu);
            Forward();
            twin.AssertClose(o16, nOut, 1.0 / 128, 1e-5, "GELU output (bf16)");
        }
        else
        {
            var (i32, w32, o32) = (twin.Floats(x), twin.Floats(w), twin.Zeros(nOut));
            inp = ((TypedPointer)i32.Cpu, (TypedPointer)i32.Gpu);
            weight = ((TypedPointer)w32.Cpu, (TypedPointer)w32.Gpu);
            output = ((TypedPointer)o32.Cpu, (TypedPointer)o32.Gpu);
            Forward();
            twin.AssertClose(o32, nOut, 1e-5, 1e-5, "GELU output");
        }

        void Forward()
        {
            twin.Cpu.MatmulGeluForward(state.Cpu, output.Cpu, inp.Cpu, weight.Cpu, bias.Cpu, rows, c, oc);
            twin.Gpu.MatmulGeluForward(state.Gpu, output.Gpu, inp.Gpu, weight.Gpu, bias.Gpu, rows, c, oc);
        }

        // The fc projection's backward through GELU: oc is its input width here.
        const int projOut = 24;
        var projW = twin.Floats(DeviceArrays.Random(rng, (long)projOut * oc));
        var dout = twin.Floats(DeviceArrays.Random(rng, (long)rows * projOut));
        var dx = twin.Zeros(nOut);
        var dprojW = twin.Zeros((long)projOut * oc);
        var dprojB = twin.Zeros(projOut);
        twin.Cpu.MatmulGeluBackward(dx.Cpu, dprojW.Cpu, dprojB.Cpu, dout.Cpu, output.Cpu, state.Cpu, projW.Cpu, rows, oc, projOut);
        twin.Gpu.MatmulGeluBackward(dx.Gpu, dprojW.Gpu, dprojB.Gpu, dout.Gpu, output.Gpu, state.Gpu, projW.Gpu, rows, oc, projOut);
        // In bf16 the GPU computes GELU' of the bf16-rounded pre-activation, as PyTorch's autocast does,
        // and its weight-gradient product takes dout rounded to bf16 (cuBLAS's operands are of one type).
        twin.AssertClose(dx, nOut, bf16 ? 2e-2 : 1e-4, bf16 ? 2e-2 : 1e-5, "dx = (dout · W) ∘ GELU'(x)");
        twin.AssertClose(dprojW, (long)projOut * oc, bf16 ? 1e-2 : 1e-4, bf16 ? 2e-2 : 1e-4, "dweight");
        twin.AssertClose(dprojB, projOut, 1e-5, 1e-5, "dbias");
    }
}
