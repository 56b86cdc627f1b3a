using SharpGpt.Kernels;

namespace SharpGpt.Tests.Kernels;

/// <summary>The kernels that feed bf16 matmuls write, bit for bit, their fp32 output rounded to nearest even.</summary>
public sealed unsafe class Bf16OutputTests
{
    [Theory]
    [InlineData(1, 5, 37)]  // C with a scalar tail
    [InlineData(2, 33, 64)]
    public void LayerNormWritesTheRoundedFp32Output(int threads, int rows, int c)
    {
        using var runner = new ParallelRunner(threads);
        using var x = Random(rows * c, 1, 3);
        using var w = Random(c, 2, 1);
        using var b = Random(c, 3, 1);
        using var o32 = new NativeBuffer(rows * c);
        using var mean32 = new NativeBuffer(rows);
        using var rstd32 = new NativeBuffer(rows);
        using var mean16 = new NativeBuffer(rows);
        using var rstd16 = new NativeBuffer(rows);
        var o16 = new ushort[rows * c];
        fixed (ushort* p16 = o16)
        {
            LayerNorm.Forward(runner, o32.Pointer, mean32.Pointer, rstd32.Pointer, x.Pointer, w.Pointer, b.Pointer, rows, c);
            LayerNorm.Forward(runner, p16, mean16.Pointer, rstd16.Pointer, x.Pointer, w.Pointer, b.Pointer, rows, c);
        }

        Assert.Equal(Array.ConvertAll(o32.Span.ToArray(), BFloat16.FromFloat), o16);
        Assert.Equal(mean32.Span.ToArray(), mean16.Span.ToArray());
        Assert.Equal(rstd32.Span.ToArray(), rstd16.Span.ToArray());
    }

    [Theory]
    [InlineData(1, 203)]
    [InlineData(2, (2 * 4096) + 13)] // several blocks and a scalar tail
    public void GeluWritesTheRoundedFp32Output(int threads, int n)
    {
        using var runner = new ParallelRunner(threads);
        using var x = Random(n, 4, 6);
        using var o32 = new NativeBuffer(n);
        var o16 = new ushort[n];
        fixed (ushort* p16 = o16)
        {
            Gelu.Forward(runner, o32.Pointer, x.Pointer, n);
            Gelu.Forward(runner, p16, x.Pointer, n);
        }

        Assert.Equal(Array.ConvertAll(o32.Span.ToArray(), BFloat16.FromFloat), o16);
    }

    [Fact]
    public void ResidualLayerNormWritesTheRoundedFp32Output()
    {
        const int Rows = 9, C = 45;
        using var runner = new ParallelRunner(2);
        using var a = Random(Rows * C, 5, 2);
        using var b = Random(Rows * C, 6, 2);
        using var w = Random(C, 7, 1);
        using var bias = Random(C, 8, 1);
        using var residual = new NativeBuffer(Rows * C);
        using var o32 = new NativeBuffer(Rows * C);
        using var stats = new NativeBuffer(2 * Rows);
        var o16 = new ushort[Rows * C];
        fixed (ushort* p16 = o16)
        {
            LayerNorm.ForwardResidual(runner, residual.Pointer, o32.Pointer, stats.Pointer, stats.Pointer + Rows, a.Pointer, b.Pointer, w.Pointer, bias.Pointer, Rows, C);
            LayerNorm.ForwardResidual(runner, residual.Pointer, p16, stats.Pointer, stats.Pointer + Rows, a.Pointer, b.Pointer, w.Pointer, bias.Pointer, Rows, C);
        }

        Assert.Equal(Array.ConvertAll(o32.Span.ToArray(), BFloat16.FromFloat), o16);
    }

    [Fact]
    public void MatmulGeluOnBf16OperandsWritesTheRoundedFp32Output()
    {
        // bf16 input and weight, widened, give the fp32 pre-activation bit for bit, so the same GELU
        // derivative; GELU then writes its output rounded (odd sizes: edge tiles and a GELU tail).
        const int Rows = 37, C = 24, Oc = 43;
        using var runner = new ParallelRunner(2);
        IGptKernels kernels = new CpuKernels(runner);
        using var inp = Random(Rows * C, 9, 1);
        using var w = Random(Oc * C, 10, 0.3);
        using var bias = Random(Oc, 11, 0.1);
        var inp16 = Array.ConvertAll(inp.Span.ToArray(), BFloat16.FromFloat);
        var w16 = Array.ConvertAll(w.Span.ToArray(), BFloat16.FromFloat);
        using var inpWide = new NativeBuffer(Rows * C);
        using var wWide = new NativeBuffer(Oc * C);
        using var derivative32 = new NativeBuffer(Rows * Oc);
        using var out32 = new NativeBuffer(Rows * Oc);
        using var derivative16 = new NativeBuffer(Rows * Oc);
        var out16 = new ushort[Rows * Oc];
        fixed (ushort* i16 = inp16, w16p = w16, o16 = out16)
        {
            BFloat16.ToFloat(inpWide.Pointer, i16, Rows * C);
            BFloat16.ToFloat(wWide.Pointer, w16p, Oc * C);
            kernels.MatmulGeluForward(derivative32.Pointer, out32.Pointer, inpWide.Pointer, wWide.Pointer, bias.Pointer, Rows, C, Oc);
            kernels.MatmulGeluForward(derivative16.Pointer, o16, i16, w16p, bias.Pointer, Rows, C, Oc);
        }

        Assert.Equal(derivative32.Span.ToArray(), derivative16.Span.ToArray());
        Assert.Equal(Array.ConvertAll(out32.Span.ToArray(), BFloat16.FromFloat), out16);
    }

    private static NativeBuffer Random(int n, int seed, double scale)
    {
        var rng = new Random(seed);
        var buffer = new NativeBuffer(n);
        for (int i = 0; i < n; i++)
        {
            buffer.Pointer[i] = (float)(((rng.NextDouble() * 2) - 1) * scale);
        }

        return buffer;
    }
}
