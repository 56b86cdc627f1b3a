using System.Runtime.CompilerServices;

namespace SharpGpt.Kernels;

/// <summary>
/// Single-precision matrix multiply in the GotoBLAS/BLIS style: for each KC-deep slice of K, a
/// block of B and a block of A are packed (transposes absorbed) into shared, aligned panel
/// buffers by all threads, then all threads compute disjoint tiles of C with a register-blocked
/// micro-kernel. Every element of C is summed over k in the same order whatever the thread
/// count, so results are bit-identical run to run.
/// </summary>
public static unsafe class Gemm
{
    /// <summary>Products below this many flops run on the calling thread alone.</summary>
    private const double SerialFlops = 4e6;

    /// <summary>Fewest tiles per thread a compute phase aims for, so dynamic claiming can balance.</summary>
    private const int TilesPerThread = 4;

    /// <summary>The micro-kernel the public entry point uses on this CPU.</summary>
    internal static GemmPath DefaultPath { get; } = GemmKernel.Detect();

    /// <summary>
    /// C[M,N] = (accumulate ? C : 0) + op(A)[M,K] * op(B)[K,N] (+ bias[N] broadcast over rows, if bias != null).
    /// All matrices row-major. transA=false: A is [M,K] with row stride lda; transA=true: A is stored [K,M] with row stride lda.
    /// transB=false: B is [K,N] with row stride ldb; transB=true: B is stored [N,K] with row stride ldb.
    /// </summary>
    public static void Sgemm(ParallelRunner runner, bool transA, bool transB, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate, float* bias = null) =>
        Sgemm(GemmPath.Auto, runner, transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, bias);

    /// <summary>As the public overload, with the micro-kernel chosen by the caller (tests force each path).</summary>
    internal static void Sgemm(GemmPath path, ParallelRunner runner, bool transA, bool transB, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate, float* bias = null)
    {
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (m == 0 || n == 0)
        {
            return;
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(ldc, n);
        if (c == null)
        {
            throw new ArgumentNullException(nameof(c));
        }

        if (k == 0)
        {
            FillWithoutProduct(m, n, c, ldc, accumulate, bias);
            return;
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(lda, transA ? m : k);
        ArgumentOutOfRangeException.ThrowIfLessThan(ldb, transB ? k : n);
        if (a == null)
        {
            throw new ArgumentNullException(nameof(a));
        }

        if (b == null)
        {
            throw new ArgumentNullException(nameof(b));
        }

        GemmKernel kernel = GemmKernel.For(path == GemmPath.Auto ? DefaultPath : path);
        GemmWorkspace workspace = GemmWorkspace.Rent();
        try
        {
            Run(kernel, workspace, runner, transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, bias);
        }
        finally
        {
            GemmWorkspace.Return(workspace);
        }
    }

    private static void Run(in GemmKernel kernel, GemmWorkspace workspace, ParallelRunner runner,
        bool transA, bool transB, int m, int n, int k,
        float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate, float* bias)
    {
        int mr = kernel.MR, nr = kernel.NR;
        int kcMax = Math.Min(k, kernel.KC);
        int blockM = kernel.BlockPanelsM * mr;
        int blockN = kernel.BlockPanelsN * nr;
        int threads = 2.0 * m * n * k < SerialFlops ? 1 : runner.Threads;

        var ctx = new Context
        {
            Kernel = kernel.Run,
            MR = mr,
            NR = nr,
            TransA = transA,
            TransB = transB,
            M = m,
            N = n,
            A = a,
            Lda = lda,
            B = b,
            Ldb = ldb,
            C = c,
            Ldc = ldc,
            APack = workspace.A((long)CeilDiv(Math.Min(m, blockM), mr) * mr * kcMax),
            BPack = workspace.B((long)CeilDiv(Math.Min(n, blockN), nr) * nr * kcMax),
        };

        for (int jc = 0; jc < n; jc += blockN)
        {
            ctx.Jc = jc;
            ctx.Nc = Math.Min(blockN, n - jc);
            ctx.NPanels = CeilDiv(ctx.Nc, nr);
            for (int pc = 0; pc < k; pc += kernel.KC)
            {
                ctx.Pc = pc;
                ctx.Kc = Math.Min(kernel.KC, k - pc);
                ctx.Load = accumulate || pc > 0;
                ctx.Bias = pc == 0 ? bias : null;
                for (int ic = 0; ic < m; ic += blockM)
                {
                    ctx.Ic = ic;
                    ctx.Mc = Math.Min(blockM, m - ic);
                    ctx.MPanels = CeilDiv(ctx.Mc, mr);
                    ctx.BItems = ic == 0 ? ctx.NPanels : 0;
                    ParallelFor(runner, threads, ctx.BItems + ctx.MPanels, &PackPanel, &ctx);

                    ctx.MTiles = CeilDiv(ctx.MPanels, kernel.TilePanelsM);
                    ctx.NTiles = CeilDiv(ctx.NPanels, kernel.TilePanelsN);
                    while (threads > 1 && ctx.MTiles * ctx.NTiles < TilesPerThread * threads && ctx.NTiles * 4 < ctx.NPanels)
                    {
                        ctx.NTiles++;
                    }

                    ParallelFor(runner, threads, ctx.MTiles * ctx.NTiles, &ComputeTile, &ctx);
                }
            }
        }
    }

    private static void ParallelFor(ParallelRunner runner, int threads, int parts, delegate*<int, void*, void> body, void* ctx)
    {
        if (threads == 1)
        {
            for (int p = 0; p < parts; p++)
            {
                body(p, ctx);
            }
        }
        else
        {
            runner.For(parts, body, ctx);
        }
    }

    /// <summary>Packs one B panel (items below BItems) or one A panel of the current blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackPanel(int item, void* context)
    {
        var ctx = (Context*)context;
        int kc = ctx->Kc;
        if (item < ctx->BItems)
        {
            int nr = ctx->NR;
            int col0 = ctx->Jc + item * nr;
            int cols = Math.Min(nr, ctx->Jc + ctx->Nc - col0);
            float* dest = ctx->BPack + (nint)item * nr * kc;
            if (ctx->TransB)
            {
                GemmPacking.PackTransposed(ctx->B + (nint)col0 * ctx->Ldb + ctx->Pc, ctx->Ldb, cols, nr, kc, dest);
            }
            else
            {
                GemmPacking.PackCopy(ctx->B + (nint)ctx->Pc * ctx->Ldb + col0, ctx->Ldb, cols, nr, kc, dest);
            }
        }
        else
        {
            int i = item - ctx->BItems;
            int mr = ctx->MR;
            int row0 = ctx->Ic + i * mr;
            int rows = Math.Min(mr, ctx->Ic + ctx->Mc - row0);
            float* dest = ctx->APack + (nint)i * mr * kc;
            if (ctx->TransA)
            {
                GemmPacking.PackCopy(ctx->A + (nint)ctx->Pc * ctx->Lda + row0, ctx->Lda, rows, mr, kc, dest);
            }
            else
            {
                GemmPacking.PackTransposed(ctx->A + (nint)row0 * ctx->Lda + ctx->Pc, ctx->Lda, rows, mr, kc, dest);
            }
        }
    }

    /// <summary>Computes one tile of C (a range of A panels x a range of B panels) over the current KC slice.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ComputeTile(int tile, void* context)
    {
        var ctx = (Context*)context;
        int mr = ctx->MR, nr = ctx->NR, kc = ctx->Kc;
        int mi = tile % ctx->MTiles, ni = tile / ctx->MTiles;
        int mp0 = (int)((long)mi * ctx->MPanels / ctx->MTiles);
        int mp1 = (int)((long)(mi + 1) * ctx->MPanels / ctx->MTiles);
        int np0 = (int)((long)ni * ctx->NPanels / ctx->NTiles);
        int np1 = (int)((long)(ni + 1) * ctx->NPanels / ctx->NTiles);
        var kernel = ctx->Kernel;
        bool load = ctx->Load;
        int ldc = ctx->Ldc;
        float* edge = stackalloc float[mr * nr];

        for (int jp = np0; jp < np1; jp++)
        {
            int col0 = ctx->Jc + jp * nr;
            int cols = Math.Min(nr, ctx->Jc + ctx->Nc - col0);
            float* bp = ctx->BPack + (nint)jp * nr * kc;
            float* bias = ctx->Bias == null ? null : ctx->Bias + col0;
            for (int ip = mp0; ip < mp1; ip++)
            {
                int row0 = ctx->Ic + ip * mr;
                int rows = Math.Min(mr, ctx->Ic + ctx->Mc - row0);
                float* ap = ctx->APack + (nint)ip * mr * kc;
                float* cp = ctx->C + (nint)row0 * ldc + col0;
                if (rows == mr && cols == nr)
                {
                    kernel(kc, ap, bp, cp, ldc, load, bias);
                }
                else
                {
                    kernel(kc, ap, bp, edge, nr, false, null);
                    WriteEdge(edge, nr, rows, cols, cp, ldc, load, bias);
                }
            }
        }
    }

    /// <summary>Writes the valid corner of an edge tile with the same arithmetic as the kernel's store.</summary>
    private static void WriteEdge(float* tile, int nr, int rows, int cols, float* c, int ldc, bool load, float* bias)
    {
        for (int r = 0; r < rows; r++)
        {
            float* t = tile + r * nr;
            float* cr = c + (nint)r * ldc;
            for (int j = 0; j < cols; j++)
            {
                float v = t[j];
                if (load)
                {
                    v = cr[j] + v;
                }

                if (bias != null)
                {
                    v += bias[j];
                }

                cr[j] = v;
            }
        }
    }

    /// <summary>The K = 0 case: C = (accumulate ? C : 0) + bias.</summary>
    private static void FillWithoutProduct(int m, int n, float* c, int ldc, bool accumulate, float* bias)
    {
        for (int i = 0; i < m; i++)
        {
            float* cr = c + (nint)i * ldc;
            for (int j = 0; j < n; j++)
            {
                float v = accumulate ? cr[j] : 0f;
                if (bias != null)
                {
                    v += bias[j];
                }

                cr[j] = v;
            }
        }
    }

    private static int CeilDiv(int x, int y) => (x + y - 1) / y;

    /// <summary>Everything the parallel bodies need, on the caller's stack.</summary>
    private struct Context
    {
        public delegate*<int, float*, float*, float*, int, bool, float*, void> Kernel;
        public int MR, NR;
        public bool TransA, TransB, Load;
        public int M, N;
        public float* A, B, C, Bias;
        public int Lda, Ldb, Ldc;
        public float* APack, BPack;
        public int Jc, Nc, NPanels, Pc, Kc, Ic, Mc, MPanels, BItems, MTiles, NTiles;
    }
}
