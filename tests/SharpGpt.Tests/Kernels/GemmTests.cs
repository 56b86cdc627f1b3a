using SharpGpt.Kernels;

namespace SharpGpt.Tests.Kernels;

public sealed unsafe class GemmTests
{
    private const double Tolerance = 1e-5;

    /// <summary>Shapes that put edge tiles in every dimension of every kernel (MR 4/6/8, NR 16/32, KC 256).</summary>
    internal static readonly (int M, int N, int K)[] OddShapes =
    [
        (1, 1, 1), (7, 13, 33), (13, 7, 97), (33, 97, 13), (97, 33, 7), (6, 16, 256), (8, 32, 257), (5, 3, 300),
    ];

    /// <summary>Every micro-kernel path (by name: GemmPath is internal) x every transpose combination.</summary>
    public static TheoryData<string, bool, bool> PathsAndTransposes()
    {
        var data = new TheoryData<string, bool, bool>();
        foreach (string path in Enum.GetNames<GemmPath>())
        {
            foreach (bool ta in new[] { false, true })
            {
                foreach (bool tb in new[] { false, true })
                {
                    data.Add(path, ta, tb);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(PathsAndTransposes))]
    public void MatchesDoubleReferenceOnOddShapes(string pathName, bool transA, bool transB)
    {
        GemmPath path = Enum.Parse<GemmPath>(pathName);
        if (!GemmKernel.CanRun(path))
        {
            return; // AVX2 path on a CPU without AVX2/FMA (AVX-512 is emulated, so it always runs).
        }

        using var runner = new ParallelRunner(1);
        int variant = 0;
        foreach (var (m, n, k) in OddShapes)
        {
            // Cycle through accumulate x bias x padded strides so every combination is covered.
            bool accumulate = (variant & 1) != 0;
            bool bias = (variant & 2) != 0;
            int pad = (variant & 4) != 0 ? 3 : 0;
            variant++;
            Check(path, runner, transA, transB, m, n, k, accumulate, bias, pad, seed: variant);
            Check(path, runner, transA, transB, m, n, k, !accumulate, !bias, 3 - pad, seed: variant + 100);
        }
    }

    [Theory]
    [MemberData(nameof(PathsAndTransposes))]
    public void MatchesDoubleReferenceWithTwoThreads(string pathName, bool transA, bool transB)
    {
        GemmPath path = Enum.Parse<GemmPath>(pathName);
        if (!GemmKernel.CanRun(path))
        {
            return; // AVX2 path on a CPU without AVX2/FMA (AVX-512 is emulated, so it always runs).
        }

        // Big enough to run in parallel, odd in every dimension, and K spans two KC slices.
        using var runner = new ParallelRunner(2);
        Check(path, runner, transA, transB, 101, 75, 291, accumulate: true, bias: true, pad: 5, seed: 7);
        Check(path, runner, transA, transB, 101, 75, 291, accumulate: false, bias: false, pad: 0, seed: 8);
    }

    [Theory]
    [MemberData(nameof(PathsAndTransposes))]
    public void TinyBlockingDrivesEveryLoop(string pathName, bool transA, bool transB)
    {
        GemmPath path = Enum.Parse<GemmPath>(pathName);
        if (!GemmKernel.CanRun(path))
        {
            return;
        }

        // Blocks a few panels wide, KC = 5 and a shared block of 10 k per slice, so that small
        // matrices cross every block boundary: KC slices, K blocks, outer M (shared A) and N
        // (shared B) blocks, MC sub-blocks and several chunks per thread, all in parallel.
        GemmKernel baseKernel = GemmKernel.For(path == GemmPath.Auto ? Gemm.DefaultPath : path);
        int mr = baseKernel.MR, nr = baseKernel.NR;
        GemmKernel kernel = baseKernel.WithBlocking(kc: 5, mc: 2 * mr, chunkN: 2 * nr, blockM: 3 * mr, blockN: 2 * nr,
            sharedFloats: 3 * mr * 10, minParallelFlops: 0);
        using var runner = new ParallelRunner(2);
        int seed = 40;
        foreach (var (m, n) in new[] { (7 * mr + 1, 5 * nr + 3), (4 * nr + 9, 4 * nr + 5), (3, 2), (2 * mr - 1, nr + 1) })
        {
            Check(kernel, runner, transA, transB, m, n, 23, accumulate: true, bias: true, pad: 2, seed: seed++);
            Check(kernel, runner, transA, transB, m, n, 23, accumulate: false, bias: false, pad: 0, seed: seed++);
            Check(kernel, runner, transA, transB, m, n, 4, accumulate: false, bias: true, pad: 1, seed: seed++);
        }
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void CrossesOuterBlocksInMAndN(bool transA, bool transB)
    {
        // M beyond the shared A block (960-1024 rows) and N beyond the shared B block (4096 columns).
        using var runner = new ParallelRunner(2);
        Check(GemmPath.Auto, runner, transA, transB, 1100, 9, 5, accumulate: true, bias: true, pad: 1, seed: 11);
        Check(GemmPath.Auto, runner, transA, transB, 5, 4200, 9, accumulate: false, bias: true, pad: 2, seed: 12);
    }

    [Fact]
    public void ZeroDepthGivesBiasOrKeepsC()
    {
        using var runner = new ParallelRunner(1);
        Check(GemmPath.Auto, runner, false, true, 5, 7, 0, accumulate: true, bias: true, pad: 1, seed: 3);
        Check(GemmPath.Auto, runner, false, true, 5, 7, 0, accumulate: false, bias: false, pad: 0, seed: 4);
    }

    [Fact]
    public void SteadyStateCallsAllocateNothing()
    {
        const int k = 300;
        using var runner = new ParallelRunner(1);
        using var a = Random(90 * k, 31);
        using var b = Random(90 * k, 32);
        using var c = new NativeBuffer(90 * 90);

        // Both ways of sharing: A when M <= N, B when M > N.
        void Call(bool transA, bool transB, int m, int n) => Gemm.Sgemm(runner, transA, transB, m, n, k,
            a.Pointer, transA ? m : k, b.Pointer, transB ? k : n, c.Pointer, n, true, null);

        Call(false, true, 70, 90);
        Call(true, false, 90, 70);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 3; i++)
        {
            Call(false, true, 70, 90);
            Call(true, false, 90, 70);
        }

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Fact]
    public void EmptyOutputIsANoOp()
    {
        using var runner = new ParallelRunner(1);
        float x = 1f;
        Gemm.Sgemm(runner, false, false, 0, 5, 5, &x, 5, &x, 5, &x, 5, false);
        Gemm.Sgemm(runner, false, false, 5, 0, 5, &x, 5, &x, 5, &x, 5, false);
        Assert.Equal(1f, x);
    }

    [Fact]
    public void RejectsStridesNarrowerThanTheMatrix()
    {
        using var runner = new ParallelRunner(1);
        using var buf = new NativeBuffer(64);
        float* p = buf.Pointer;
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Sgemm(runner, false, false, 2, 3, 4, p, 3, p, 3, p, 3, false));
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Sgemm(runner, false, true, 2, 3, 4, p, 4, p, 3, p, 3, false));
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Sgemm(runner, true, false, 2, 3, 4, p, 2, p, 3, p, 2, false));
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(false, false)]
    [InlineData(true, false)]
    public void IsBitIdenticalRunToRunAndAcrossThreadCounts(bool transA, bool transB)
    {
        const int m = 67, n = 150, k = 530;
        using var one = new ParallelRunner(1);
        using var two = new ParallelRunner(2);
        using var a = Random(m * k, 21);
        using var b = Random(k * n, 22);
        using var bias = Random(n, 23);
        using var c0 = Random(m * n, 24);
        int lda = transA ? m : k, ldb = transB ? k : n;

        float[] Run(ParallelRunner runner)
        {
            using var c = new NativeBuffer(m * n);
            c0.Span.CopyTo(c.Span);
            Gemm.Sgemm(runner, transA, transB, m, n, k, a.Pointer, lda, b.Pointer, ldb, c.Pointer, n, true, bias.Pointer);
            return c.Span.ToArray();
        }

        float[] first = Run(two);
        for (int rep = 0; rep < 3; rep++)
        {
            Assert.Equal(BitsOf(first), BitsOf(Run(two)));
        }

        Assert.Equal(BitsOf(first), BitsOf(Run(one)));
    }

    /// <summary>What batched decoding's exactness rests on (BatchKvCacheDecoder): a row of C is the same, bit for bit,
    /// whatever the number of rows M and wherever the row stands among them, since its k blocking does not depend on
    /// M. K = 530 spans three KC slices; K = 96 reads A in place (DirectA) on the AVX2 path; N = 150 ends in an edge
    /// tile. Rows 1 to 20 put the row in every position of full and partial MR panels.</summary>
    [Theory]
    [InlineData("Avx2", 530)]
    [InlineData("Avx2", 96)]
    [InlineData("Avx512", 530)]
    [InlineData("Portable", 530)]
    [InlineData("Portable", 96)]
    public void ARowOfCIsTheSameWhateverTheOtherRows(string pathName, int k)
    {
        GemmPath path = Enum.Parse<GemmPath>(pathName);
        if (!GemmKernel.CanRun(path))
        {
            return; // AVX2 path on a CPU without AVX2/FMA.
        }

        const int n = 150, maxM = 20;
        using var two = new ParallelRunner(2);
        using var a = Random(maxM * k, 31);
        using var w = Random(n * k, 32);
        using var bias = Random(n, 33);
        var alone = new float[maxM][];
        for (int r = 0; r < maxM; r++)
        {
            using var c = new NativeBuffer(n);
            Gemm.Sgemm(path, two, false, true, 1, n, k, a.Pointer + ((long)r * k), k, w.Pointer, k, c.Pointer, n, false, bias.Pointer);
            alone[r] = c.Span.ToArray();
        }

        for (int m = 2; m <= maxM; m++)
        {
            // The batch's rows start anywhere: rows first..first+m-1 of A.
            int first = (m * 7) % (maxM - m + 1);
            using var c = new NativeBuffer(m * n);
            Gemm.Sgemm(path, two, false, true, m, n, k, a.Pointer + ((long)first * k), k, w.Pointer, k, c.Pointer, n, false, bias.Pointer);
            for (int r = 0; r < m; r++)
            {
                Assert.True(BitsOf(alone[first + r]).AsSpan().SequenceEqual(BitsOf(c.Span.Slice(r * n, n).ToArray())),
                    $"{path} k={k}: row {r} of {m} (A's row {first + r}) differs from that row alone");
            }
        }
    }

    private static int[] BitsOf(float[] values) => Array.ConvertAll(values, BitConverter.SingleToInt32Bits);

    /// <summary>Runs one product and compares it with a double-precision reference; also checks
    /// that padding columns of C are untouched and that padding of A and B (NaN) is never read.</summary>
    private static void Check(GemmPath path, ParallelRunner runner, bool transA, bool transB, int m, int n, int k,
        bool accumulate, bool bias, int pad, int seed) =>
        Check(GemmKernel.For(path == GemmPath.Auto ? Gemm.DefaultPath : path), runner, transA, transB, m, n, k,
            accumulate, bias, pad, seed);

    private static void Check(in GemmKernel kernel, ParallelRunner runner, bool transA, bool transB, int m, int n, int k,
        bool accumulate, bool bias, int pad, int seed)
    {
        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        int lda = aCols + pad, ldb = bCols + pad, ldc = n + pad;
        using var a = Padded(aRows, aCols, lda, seed);
        using var b = Padded(bRows, bCols, ldb, seed + 1);
        using var c = Padded(m, n, ldc, seed + 2);
        using var biasBuf = Random(n, seed + 3);
        float[] before = c.Span.ToArray();

        Gemm.Sgemm(kernel, runner, transA, transB, m, n, k, a.Pointer, lda, b.Pointer, ldb, c.Pointer, ldc, accumulate,
            bias ? biasBuf.Pointer : null);

        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0, scale = 0;
                for (int p = 0; p < k; p++)
                {
                    double x = transA ? a.Pointer[(long)p * lda + i] : a.Pointer[(long)i * lda + p];
                    double y = transB ? b.Pointer[(long)j * ldb + p] : b.Pointer[(long)p * ldb + j];
                    sum += x * y;
                    scale += Math.Abs(x * y);
                }

                if (accumulate)
                {
                    sum += before[i * ldc + j];
                    scale += Math.Abs(before[i * ldc + j]);
                }

                if (bias)
                {
                    sum += biasBuf.Pointer[j];
                    scale += Math.Abs(biasBuf.Pointer[j]);
                }

                double got = c.Pointer[(long)i * ldc + j];
                if (!(Math.Abs(got - sum) <= Tolerance * scale + 1e-30))
                {
                    Assert.Fail($"{kernel.Path} tA={transA} tB={transB} m={m} n={n} k={k} acc={accumulate} bias={bias} pad={pad}: " +
                        $"C[{i},{j}] = {got}, expected {sum} (scale {scale})");
                }
            }

            for (int j = n; j < ldc; j++)
            {
                Assert.Equal(before[i * ldc + j], c.Pointer[(long)i * ldc + j]);
            }
        }
    }

    private static NativeBuffer Padded(int rows, int cols, int ld, int seed)
    {
        var buf = new NativeBuffer((long)rows * ld);
        var rng = new Random(seed);
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < ld; j++)
            {
                buf.Pointer[(long)i * ld + j] = j < cols ? (float)(rng.NextDouble() * 2 - 1) : float.NaN;
            }
        }

        return buf;
    }

    private static NativeBuffer Random(int length, int seed) => Padded(1, length, length, seed);
}
