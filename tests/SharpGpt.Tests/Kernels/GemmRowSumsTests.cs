using SharpGpt.Kernels;

namespace SharpGpt.Tests.Kernels;

/// <summary>The row sums of a transposed A that the GEMM adds up while it packs A (the bias gradient
/// of a weight GEMM): each sum is what adding op(A)[i, 0], op(A)[i, 1], ... in turn gives, exactly.</summary>
public sealed unsafe class GemmRowSumsTests
{
    public static TheoryData<string, bool> PathsAndTransposesOfB()
    {
        var data = new TheoryData<string, bool>();
        foreach (string path in Enum.GetNames<GemmPath>())
        {
            data.Add(path, false);
            data.Add(path, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(PathsAndTransposesOfB))]
    public void SumsEachRowOfTheTransposedAInOrderAndLeaveTheProductAsItWas(string pathName, bool transB)
    {
        GemmPath path = Enum.Parse<GemmPath>(pathName);
        if (!GemmKernel.CanRun(path))
        {
            return;
        }

        GemmKernel baseKernel = GemmKernel.For(path == GemmPath.Auto ? Gemm.DefaultPath : path);
        int mr = baseKernel.MR, nr = baseKernel.NR;

        // The tiny blocking crosses KC slices, K blocks and outer blocks of rows (shared A) and of
        // columns (shared B, where A is packed again for each block of columns).
        GemmKernel tiny = baseKernel.WithBlocking(kc: 5, mc: 2 * mr, chunkN: 2 * nr, blockM: 3 * mr, blockN: 2 * nr,
            sharedFloats: 3 * mr * 10, minParallelFlops: 0);
        using var runner = new ParallelRunner(2);
        int seed = 1;
        foreach (GemmKernel kernel in new[] { baseKernel, tiny })
        {
            foreach (var (m, n, k) in new[] { (7 * mr + 1, 5 * nr + 3, 23), (4 * nr + 9, 2 * mr + 1, 300), (2 * mr, 9 * nr, 41), (3, 2, 4), (97, 33, 1) })
            {
                Check(kernel, runner, transB, m, n, k, seed++);
            }
        }
    }

    [Fact]
    public void MatmulBackwardGivesTheBiasGradientAsColumnSumsOfDOut()
    {
        const int Rows = 45, C = 24, Oc = 70;
        using var runner = new ParallelRunner(2);
        using var dout = Filled(Rows * Oc, 1);
        using var inp = Filled(Rows * C, 2);
        using var w = Filled(Oc * C, 3);
        using var dinp = new NativeBuffer(Rows * C);
        using var dw = new NativeBuffer(Oc * C);
        using var dbias = Filled(Oc, 4);
        var expected = dbias.Span.ToArray();
        for (int r = 0; r < Rows; r++)
        {
            for (int i = 0; i < Oc; i++)
            {
                expected[i] += dout.Pointer[(r * Oc) + i];
            }
        }

        Matmul.Backward(runner, dinp.Pointer, dw.Pointer, dbias.Pointer, dout.Pointer, inp.Pointer, w.Pointer, Rows, C, Oc);
        Assert.Equal(Bits(expected), Bits(dbias.Span.ToArray()));
    }

    [Fact]
    public void RefusesAnUntransposedA()
    {
        using var runner = new ParallelRunner(1);
        using var a = Filled(16, 1);
        using var b = Filled(16, 2);
        using var c = new NativeBuffer(16);
        using var sums = new NativeBuffer(4);
        Assert.Throws<ArgumentException>(() => Gemm.Sgemm(runner, false, false, 4, 4, 4, a.Pointer, 4, b.Pointer, 4, c.Pointer, 4, false, aRowSums: sums.Pointer));
    }

    private static void Check(in GemmKernel kernel, ParallelRunner runner, bool transB, int m, int n, int k, int seed)
    {
        // op(A) (m, k) is stored (k, m); B is (k, n) or stored (n, k).
        int ldb = transB ? k : n;
        using var a = Filled(k * m, seed);
        using var b = Filled(n * k, seed + 1);
        using var plain = Filled(m * n, seed + 2);
        using var withSums = Filled(m * n, seed + 2);
        using var sums = Filled(m, seed + 3);
        var expected = sums.Span.ToArray();
        for (int p = 0; p < k; p++)
        {
            for (int i = 0; i < m; i++)
            {
                expected[i] += a.Pointer[(p * m) + i];
            }
        }

        Gemm.Sgemm(kernel, runner, true, transB, m, n, k, a.Pointer, m, b.Pointer, ldb, plain.Pointer, n, accumulate: true);
        Gemm.Sgemm(kernel, runner, true, transB, m, n, k, a.Pointer, m, b.Pointer, ldb, withSums.Pointer, n, accumulate: true, aRowSums: sums.Pointer);
        Assert.Equal(Bits(expected), Bits(sums.Span.ToArray()));
        Assert.Equal(Bits(plain.Span.ToArray()), Bits(withSums.Span.ToArray()));
    }

    private static NativeBuffer Filled(int length, int seed)
    {
        var rng = new Random(seed);
        var buffer = new NativeBuffer(length);
        for (int i = 0; i < length; i++)
        {
            buffer.Pointer[i] = (float)((rng.NextDouble() * 2) - 1);
        }

        return buffer;
    }

    private static int[] Bits(float[] values) => Array.ConvertAll(values, BitConverter.SingleToInt32Bits);
}
