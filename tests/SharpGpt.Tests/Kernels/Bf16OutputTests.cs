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
