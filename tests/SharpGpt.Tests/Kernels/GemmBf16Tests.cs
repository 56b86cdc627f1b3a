using SharpGpt.Kernels;

namespace SharpGpt.Tests.Kernels;

/// <summary>
/// bf16 operands are widened exactly while packed and the sums run in the same order, so a product
/// with bf16 A and/or B must equal, bit for bit, the fp32 product of the widened operands.
/// </summary>
public sealed unsafe class GemmBf16Tests
{
    /// <summary>Which operands are bf16: A, B or both.</summary>
    private static readonly (bool A, bool B)[] Bf16Operands = [(true, false), (false, true), (true, true)];

    [Theory]
    [MemberData(nameof(GemmTests.PathsAndTransposes), MemberType = typeof(GemmTests))]
    public void EqualsTheFp32ProductOfTheWidenedOperandsOnOddShapes(string pathName, bool transA, bool transB)
    {
        GemmPath path = Enum.Parse<GemmPath>(pathName);
        if (!GemmKernel.CanRun(path))
        {
            return; // AVX2 path on a CPU without AVX2/FMA (AVX-512 is emulated, so it always runs).
        }

        GemmKernel kernel = GemmKernel.For(path == GemmPath.Auto ? Gemm.DefaultPath : path);
        using var runner = new ParallelRunner(1);
        int variant = 0;
        foreach (var (m, n, k) in GemmTests.OddShapes)
        {
            foreach (var (aBf16, bBf16) in Bf16Operands)
            {
                // Cycle through accumulate x bias x padded strides, as the fp32 tests do.
                Check(kernel, runner, transA, transB, m, n, k, aBf16, bBf16,
                    accumulate: (variant & 1) != 0, bias: (variant & 2) != 0, pad: (variant & 4) != 0 ? 3 : 0, seed: variant);
                variant++;
            }
        }
    }

    [Theory]
    [MemberData(nameof(GemmTests.PathsAndTransposes), MemberType = typeof(GemmTests))]
    public void EqualsTheFp32ProductWithTwoThreadsAndTinyBlocking(string pathName, bool transA, bool transB)
    {
        GemmPath path = Enum.Parse<GemmPath>(pathName);
        if (!GemmKernel.CanRun(path))
        {
            return;
        }

        // The default blocking on a product big enough to run in parallel with K over two KC slices,
        // then blocks a few panels wide so that small matrices cross every block boundary.
        GemmKernel kernel = GemmKernel.For(path == GemmPath.Auto ? Gemm.DefaultPath : path);
        int mr = kernel.MR, nr = kernel.NR;
        GemmKernel tiny = kernel.WithBlocking(kc: 5, mc: 2 * mr, chunkN: 2 * nr, blockM: 3 * mr, blockN: 2 * nr,
            sharedFloats: 3 * mr * 10, minParallelFlops: 0);
        using var runner = new ParallelRunner(2);
        int seed = 50;
        foreach (var (aBf16, bBf16) in Bf16Operands)
        {
            Check(kernel, runner, transA, transB, 101, 75, 291, aBf16, bBf16, accumulate: true, bias: true, pad: 5, seed: seed++);
            Check(tiny, runner, transA, transB, (7 * mr) + 1, (5 * nr) + 3, 23, aBf16, bBf16, accumulate: true, bias: true, pad: 2, seed: seed++);
            Check(tiny, runner, transA, transB, (4 * nr) + 9, (4 * nr) + 5, 23, aBf16, bBf16, accumulate: false, bias: false, pad: 0, seed: seed++);
        }
    }

    /// <summary>Runs the product once on the widened fp32 operands and once with the chosen operands in
    /// bf16, and compares C bit for bit. The operands' padding is NaN, so reading it would show.</summary>
    private static void Check(in GemmKernel kernel, ParallelRunner runner, bool transA, bool transB, int m, int n, int k,
        bool aBf16, bool bBf16, bool accumulate, bool bias, int pad, int seed)
    {
        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        int lda = aCols + pad, ldb = bCols + pad, ldc = n + pad;
        var rng = new Random(seed);
        var (a16, a32) = Operand(rng, aRows, aCols, lda);
        var (b16, b32) = Operand(rng, bRows, bCols, ldb);
        float[] c0 = [.. Enumerable.Range(0, m * ldc).Select(_ => (float)(rng.NextDouble() * 2 - 1))];
        float[] biasValues = [.. Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1))];
        float[] expected = (float[])c0.Clone(), got = (float[])c0.Clone();

        fixed (ushort* pa16 = a16, pb16 = b16)
        fixed (float* pa32 = a32, pb32 = b32, pe = expected, pg = got, pbias = biasValues)
        {
            float* biasAt = bias ? pbias : null;
            Gemm.Sgemm(kernel, runner, transA, transB, m, n, k, pa32, lda, pb32, ldb, pe, ldc, accumulate, biasAt);
            Gemm.Sgemm(kernel, runner, transA, transB, m, n, k, aBf16 ? (TypedPointer)pa16 : pa32, lda, bBf16 ? (TypedPointer)pb16 : pb32, ldb, pg, ldc, accumulate, biasAt);
        }

        for (int i = 0; i < expected.Length; i++)
        {
            if (float.IsNaN(expected[i]) || BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(got[i]))
            {
                Assert.Fail($"{kernel.Path} tA={transA} tB={transB} m={m} n={n} k={k} bf16 A={aBf16} B={bBf16} acc={accumulate} bias={bias} pad={pad}: " +
                    $"C[{i / ldc},{i % ldc}] = {got[i]}, the fp32 product gives {expected[i]}");
            }
        }
    }

    /// <summary>A rows x cols operand with row stride ld: random bf16 values (NaN padding) and their widening.</summary>
    private static (ushort[] Narrow, float[] Wide) Operand(Random rng, int rows, int cols, int ld)
    {
        var narrow = new ushort[Math.Max(1, rows * ld)];
        var wide = new float[narrow.Length];
        for (int i = 0; i < narrow.Length; i++)
        {
            narrow[i] = BFloat16.FromFloat(i % ld < cols ? (float)(rng.NextDouble() * 2 - 1) : float.NaN);
            wide[i] = BFloat16.ToFloat(narrow[i]);
        }

        return (narrow, wide);
    }
}
