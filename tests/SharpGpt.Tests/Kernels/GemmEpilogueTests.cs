using SharpGpt.Kernels;

namespace SharpGpt.Tests.Kernels;

/// <summary>GELU fused into the GEMM gives exactly what the GEMM followed by the GELU kernel gives.</summary>
public sealed unsafe class GemmEpilogueTests
{
    public static TheoryData<string, bool, bool> PathsAndTransposes() => GemmTests.PathsAndTransposes();

    [Theory]
    [MemberData(nameof(PathsAndTransposes))]
    public void FusedGeluEqualsGemmThenGelu(string pathName, bool transA, bool transB)
    {
        GemmPath path = Enum.Parse<GemmPath>(pathName);
        if (!GemmKernel.CanRun(path))
        {
            return;
        }

        GemmKernel baseKernel = GemmKernel.For(path == GemmPath.Auto ? Gemm.DefaultPath : path);
        int mr = baseKernel.MR, nr = baseKernel.NR;

        // The default blocking, and a tiny one where K spans several slices and blocks: the epilogue
        // must run once, after the last slice, or GELU would be applied to partial sums.
        GemmKernel tiny = baseKernel.WithBlocking(kc: 5, mc: 2 * mr, chunkN: 2 * nr, blockM: 3 * mr, blockN: 2 * nr,
            sharedFloats: 3 * mr * 10, minParallelFlops: 0);
        using var runner = new ParallelRunner(2);
        int seed = 1;
        foreach (GemmKernel kernel in new[] { baseKernel, tiny })
        {
            foreach (var (m, n, k) in new[] { (7 * mr + 1, 5 * nr + 3, 23), (3, 2, 4), (2 * mr, 2 * nr, 300), (97, 33, 7) })
            {
                CheckForward(kernel, runner, transA, transB, m, n, k, seed++);
                CheckBackward(kernel, runner, transA, transB, m, n, k, seed++);
            }
        }
    }

    [Fact]
    public void ZeroDepthStillAppliesTheEpilogue()
    {
        using var runner = new ParallelRunner(1);
        CheckForward(GemmKernel.For(Gemm.DefaultPath), runner, false, true, 5, 7, 0, seed: 3);
    }

    [Fact]
    public void MatmulGeluKernelsEqualTheUnfusedComposition()
    {
        // The CPU kernels override the interface's unfused default (matmul, then GELU): same bits.
        using var runner = new ParallelRunner(2);
        IGptKernels fused = new CpuKernels(runner);
        IGptKernels composed = new ForwardingKernels(fused);
        const int Rows = 37, C = 24, Oc = 40;
        using var inp = Filled(Rows * C, 1);
        using var w = Filled(Oc * C, 2);
        using var bias = Filled(Oc, 3);
        using var dout = Filled(Rows * Oc, 4);
        using var derivA = new NativeBuffer(Rows * Oc);
        using var outA = new NativeBuffer(Rows * Oc);
        using var derivB = new NativeBuffer(Rows * Oc);
        using var outB = new NativeBuffer(Rows * Oc);
        fused.MatmulGeluForward(derivA.Pointer, outA.Pointer, inp.Pointer, w.Pointer, bias.Pointer, Rows, C, Oc);
        composed.MatmulGeluForward(derivB.Pointer, outB.Pointer, inp.Pointer, w.Pointer, bias.Pointer, Rows, C, Oc);
        Assert.Equal(Bits(derivB), Bits(derivA));
        Assert.Equal(Bits(outB), Bits(outA));

        // Backward of a layer whose input was GELU(x), with GELU'(x) from the forward: here the (Rows, Oc) tensors are the input side.
        using var w2 = Filled(C * Oc, 5);
        using var dout2 = Filled(Rows * C, 6);
        using var dA = new NativeBuffer(Rows * Oc);
        using var dB = new NativeBuffer(Rows * Oc);
        using var dwA = Filled(C * Oc, 7);
        using var dwB = Filled(C * Oc, 7);
        using var dbA = Filled(C, 8);
        using var dbB = Filled(C, 8);
        fused.MatmulGeluBackward(dA.Pointer, dwA.Pointer, dbA.Pointer, dout2.Pointer, outA.Pointer, derivA.Pointer, w2.Pointer, Rows, Oc, C);
        composed.MatmulGeluBackward(dB.Pointer, dwB.Pointer, dbB.Pointer, dout2.Pointer, outA.Pointer, derivA.Pointer, w2.Pointer, Rows, Oc, C);
        Assert.Equal(Bits(dB), Bits(dA));
        Assert.Equal(Bits(dwB), Bits(dwA));
        Assert.Equal(Bits(dbB), Bits(dbA));
        Assert.Contains(Bits(dA), x => x != 0);
    }

    private static void CheckForward(in GemmKernel kernel, ParallelRunner runner, bool transA, bool transB, int m, int n, int k, int seed)
    {
        var (a, lda, b, ldb) = Operands(transA, transB, m, n, k, seed);
        using var _ = a;
        using var __ = b;
        using var bias = Filled(n, seed + 2);
        using var plain = new NativeBuffer((long)m * n);
        using var expected = new NativeBuffer((long)m * n);
        using var fused = new NativeBuffer((long)m * n);
        using var output = new NativeBuffer((long)m * n);

        using var derivative = new NativeBuffer((long)m * n);
        Gemm.Sgemm(kernel, runner, transA, transB, m, n, k, a.Pointer, lda, b.Pointer, ldb, plain.Pointer, n, false, bias.Pointer);
        Gelu.Forward(runner, expected.Pointer, derivative.Pointer, plain.Pointer, (long)m * n);
        Gemm.Sgemm(kernel, runner, transA, transB, m, n, k, a.Pointer, lda, b.Pointer, ldb, fused.Pointer, n, false, bias.Pointer,
            GemmEpilogue.Gelu(output.Pointer, n));

        Assert.Equal(Bits(derivative), Bits(fused)); // C ends as GELU'(C)
        Assert.Equal(Bits(expected), Bits(output));
    }

    private static void CheckBackward(in GemmKernel kernel, ParallelRunner runner, bool transA, bool transB, int m, int n, int k, int seed)
    {
        var (a, lda, b, ldb) = Operands(transA, transB, m, n, k, seed);
        using var _ = a;
        using var __ = b;
        using var derivative = Filled(m * n, seed + 3);
        using var plain = new NativeBuffer((long)m * n);
        using var expected = new NativeBuffer((long)m * n);
        using var fused = new NativeBuffer((long)m * n);

        Gemm.Sgemm(kernel, runner, transA, transB, m, n, k, a.Pointer, lda, b.Pointer, ldb, plain.Pointer, n, false);
        Gelu.Backward(runner, expected.Pointer, derivative.Pointer, plain.Pointer, (long)m * n);
        Gemm.Sgemm(kernel, runner, transA, transB, m, n, k, a.Pointer, lda, b.Pointer, ldb, fused.Pointer, n, false,
            epilogue: GemmEpilogue.GeluBackward(derivative.Pointer, n));

        Assert.Equal(Bits(expected), Bits(fused));
    }

    private static (NativeBuffer A, int Lda, NativeBuffer B, int Ldb) Operands(bool transA, bool transB, int m, int n, int k, int seed)
    {
        int lda = Math.Max(1, transA ? m : k), ldb = Math.Max(1, transB ? k : n);
        return (Filled((transA ? k : m) * lda, seed), lda, Filled((transB ? n : k) * ldb, seed + 1), ldb);
    }

    private static NativeBuffer Filled(int length, int seed)
    {
        var buf = new NativeBuffer(Math.Max(1, length));
        var rng = new Random(seed);
        for (int i = 0; i < length; i++)
        {
            buf.Pointer[i] = (float)((rng.NextDouble() * 6) - 3);
        }

        return buf;
    }

    private static int[] Bits(NativeBuffer b) => Array.ConvertAll(b.Span.ToArray(), BitConverter.SingleToInt32Bits);
}
