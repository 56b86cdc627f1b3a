using System.Runtime.CompilerServices;

namespace SharpGpt.Kernels;

/// <summary>
/// Single-precision matrix multiply in the GotoBLAS/BLIS style. Operands are packed into
/// contiguous, aligned panels (transposes absorbed there) and a register-blocked micro-kernel
/// computes MR x NR tiles of C. The smaller operand is packed once, up front, by all threads
/// into a shared block; the threads then claim chunks of the other dimension (columns of C when
/// A is shared, rows when B is) and each packs only its own panels of the larger operand, so no
/// panel is packed twice and there are two barriers per shared block, not per KC slice. Each
/// element of C is owned by one chunk and summed over k in a fixed order (KC slices in turn),
/// so results are bit-identical run to run and across thread counts. A and B may be bf16: they are
/// widened exactly while packed, so the product is bit for bit the fp32 product of the widened values.
/// </summary>
internal static unsafe class Gemm
{
    /// <summary>
    /// Longest row (in floats) of a row-major A that the kernel reads in place rather than packs. Short
    /// rows (the small models' 128-512) run 2-10% faster unpacked; GPT-2 124M's rows of 768 and more
    /// put each of a tile's six rows on its own page, and unpacked its forward matmuls were 11% slower.
    /// </summary>
    private const int DirectAMaxRowFloats = 512;

    /// <summary>Chunks per thread a compute phase aims for, so dynamic claiming can balance.</summary>
    private const int ChunksPerThread = 4;

    /// <summary>The micro-kernel the public entry point uses on this CPU.</summary>
    internal static GemmPath DefaultPath { get; } = GemmKernel.Detect();

    /// <summary>
    /// C[M,N] = (accumulate ? C : 0) + op(A)[M,K] * op(B)[K,N] (+ bias[N] broadcast over rows, if bias != null),
    /// All matrices row-major. transA=false: A is [M,K] with row stride lda; transA=true: A is stored [K,M] with row stride lda.
    /// transB=false: B is [K,N] with row stride ldb; transB=true: B is stored [N,K] with row stride ldb.
    /// </summary>
    public static void Sgemm(ParallelRunner runner, bool transA, bool transB, int m, int n, int k,
        TypedPointer a, int lda, TypedPointer b, int ldb, float* c, int ldc, bool accumulate, float* bias = null) =>
        Sgemm(GemmPath.Auto, runner, transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, bias);

    /// <summary>As the public overload, with the micro-kernel chosen by the caller (tests force each path).</summary>
    internal static void Sgemm(GemmPath path, ParallelRunner runner, bool transA, bool transB, int m, int n, int k,
        TypedPointer a, int lda, TypedPointer b, int ldb, float* c, int ldc, bool accumulate, float* bias = null) =>
        Sgemm(GemmKernel.For(path == GemmPath.Auto ? DefaultPath : path), runner, transA, transB, m, n, k,
            a, lda, b, ldb, c, ldc, accumulate, bias);

    /// <summary>As the public overload, with the micro-kernel and its blocking chosen by the caller.</summary>
    internal static void Sgemm(in GemmKernel kernel, ParallelRunner runner, bool transA, bool transB, int m, int n, int k,
        TypedPointer a, int lda, TypedPointer b, int ldb, float* c, int ldc, bool accumulate, float* bias = null)
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
        if (a.IsNull)
        {
            throw new ArgumentNullException(nameof(a));
        }

        if (b.IsNull)
        {
            throw new ArgumentNullException(nameof(b));
        }

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
        TypedPointer a, int lda, TypedPointer b, int ldb, float* c, int ldc, bool accumulate, float* bias)
    {
        var ctx = new Context
        {
            Kernel = kernel.Run,
            KernelStrided = kernel.RunStrided,
            DirectA = kernel.RunStrided != null && !transA && !a.IsBf16 && lda <= DirectAMaxRowFloats,
            MR = kernel.MR,
            NR = kernel.NR,
            KC = kernel.KC,
            McPanels = kernel.McPanels,
            Threads = 2.0 * m * n * k < kernel.MinParallelFlops ? 1 : runner.Threads,
            TransA = transA,
            TransB = transB,
            Accumulate = accumulate,
            M = m,
            N = n,
            K = k,
            A = a,
            Lda = lda,
            B = b,
            Ldb = ldb,
            C = c,
            Ldc = ldc,
            Bias = bias,
        };

        // Share the smaller operand: it is packed once, up front, by all threads; each thread then
        // packs only its own panels of the larger one, so nothing is packed twice.
        if (m <= n)
        {
            RunSharedA(ref ctx, kernel, workspace, runner, k);
        }
        else
        {
            RunSharedB(ref ctx, kernel, workspace, runner, k);
        }
    }

    /// <summary>Packs a block of A for all threads, then hands out chunks of columns of C.</summary>
    private static void RunSharedA(ref Context ctx, in GemmKernel kernel, GemmWorkspace workspace, ParallelRunner runner, int k)
    {
        int mr = ctx.MR, nr = ctx.NR, kcMax = ctx.KC, threads = ctx.Threads;
        int mbMax = Math.Min(RoundUp(ctx.M, mr), kernel.BlockPanelsM * mr);
        int kbMax = Math.Min(RoundUp(k, kcMax), Math.Max(kcMax, kernel.SharedFloats / mbMax / kcMax * kcMax));
        ctx.Shared = workspace.Shared((long)mbMax * kbMax);
        ctx.NPanels = CeilDiv(ctx.N, nr);
        ctx.ChunkPanels = Math.Clamp(CeilDiv(ctx.NPanels, ChunksPerThread * threads), 1, kernel.ChunkPanelsN);
        ctx.Chunks = CeilDiv(ctx.NPanels, ctx.ChunkPanels);
        ctx.Locals = workspace.Locals(threads, (long)ctx.ChunkPanels * nr * kcMax);
        fixed (Context* p = &ctx)
        {
            for (int i0 = 0; i0 < ctx.M; i0 += mbMax)
            {
                ctx.I0 = i0;
                ctx.MPanels = CeilDiv(Math.Min(mbMax, ctx.M - i0), mr);
                ctx.SliceStride = (long)ctx.MPanels * mr * kcMax;
                for (int p0 = 0; p0 < k; p0 += kbMax)
                {
                    ctx.P0 = p0;
                    ctx.P1 = Math.Min(p0 + kbMax, k);
                    if (!ctx.DirectA)
                    {
                        ParallelFor(runner, threads, ctx.MPanels, &PackSharedA, p);
                    }

                    ctx.Next = 0;
                    ParallelFor(runner, threads, threads, &ComputeColumnChunks, p);
                }
            }
        }
    }

    /// <summary>Packs a block of B for all threads, then hands out chunks of rows of C.</summary>
    private static void RunSharedB(ref Context ctx, in GemmKernel kernel, GemmWorkspace workspace, ParallelRunner runner, int k)
    {
        int mr = ctx.MR, nr = ctx.NR, kcMax = ctx.KC, threads = ctx.Threads;
        int nbMax = Math.Min(RoundUp(ctx.N, nr), kernel.BlockPanelsN * nr);
        int kbMax = Math.Min(RoundUp(k, kcMax), Math.Max(kcMax, kernel.SharedFloats / nbMax / kcMax * kcMax));
        ctx.Shared = workspace.Shared((long)nbMax * kbMax);
        ctx.MPanels = CeilDiv(ctx.M, mr);
        ctx.ChunkPanels = Math.Clamp(CeilDiv(ctx.MPanels, ChunksPerThread * threads), 1, kernel.McPanels);
        ctx.Chunks = CeilDiv(ctx.MPanels, ctx.ChunkPanels);
        ctx.Locals = workspace.Locals(threads, (long)ctx.ChunkPanels * mr * kcMax);
        fixed (Context* p = &ctx)
        {
            for (int j0 = 0; j0 < ctx.N; j0 += nbMax)
            {
                ctx.J0 = j0;
                ctx.NPanels = CeilDiv(Math.Min(nbMax, ctx.N - j0), nr);
                ctx.SliceStride = (long)ctx.NPanels * nr * kcMax;
                for (int p0 = 0; p0 < k; p0 += kbMax)
                {
                    ctx.P0 = p0;
                    ctx.P1 = Math.Min(p0 + kbMax, k);
                    ParallelFor(runner, threads, ctx.NPanels, &PackSharedB, p);
                    ctx.Next = 0;
                    ParallelFor(runner, threads, threads, &ComputeRowChunks, p);
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

    /// <summary>Packs A panel <paramref name="item"/> of the current row block for every KC slice of the K block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackSharedA(int item, void* context)
    {
        var ctx = (Context*)context;
        int row0 = ctx->I0 + item * ctx->MR;
        float* slice = ctx->Shared;
        for (int pc = ctx->P0; pc < ctx->P1; pc += ctx->KC, slice += ctx->SliceStride)
        {
            int kc = Math.Min(ctx->KC, ctx->P1 - pc);
            PackA(ctx, row0, 1, pc, kc, slice + (nint)item * ctx->MR * kc);
        }
    }

    /// <summary>Packs B panel <paramref name="item"/> of the current column block for every KC slice of the K block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackSharedB(int item, void* context)
    {
        var ctx = (Context*)context;
        int col0 = ctx->J0 + item * ctx->NR;
        float* slice = ctx->Shared;
        for (int pc = ctx->P0; pc < ctx->P1; pc += ctx->KC, slice += ctx->SliceStride)
        {
            int kc = Math.Min(ctx->KC, ctx->P1 - pc);
            PackB(ctx, col0, 1, pc, kc, slice + (nint)item * ctx->NR * kc);
        }
    }

    /// <summary>One thread's loop over chunks of B panels (columns of C) against the shared A block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ComputeColumnChunks(int slot, void* context)
    {
        var ctx = (Context*)context;
        int mr = ctx->MR, nr = ctx->NR;
        float* local = ctx->Locals[slot];
        float* edge = stackalloc float[mr * nr];
        float* edgeA = stackalloc float[ctx->DirectA ? mr * ctx->KC : 0];
        int chunk;
        while ((chunk = Interlocked.Increment(ref ctx->Next) - 1) < ctx->Chunks)
        {
            int jp0 = chunk * ctx->ChunkPanels;
            int jp1 = Math.Min(jp0 + ctx->ChunkPanels, ctx->NPanels);
            float* aSlice = ctx->Shared;
            for (int pc = ctx->P0; pc < ctx->P1; pc += ctx->KC, aSlice += ctx->SliceStride)
            {
                int kc = Math.Min(ctx->KC, ctx->P1 - pc);
                PackB(ctx, jp0 * nr, jp1 - jp0, pc, kc, local);

                bool load = ctx->Accumulate || pc > 0;
                float* bias = pc == 0 ? ctx->Bias : null;
                for (int ib = 0; ib < ctx->MPanels; ib += ctx->McPanels)
                {
                    int ie = Math.Min(ib + ctx->McPanels, ctx->MPanels);
                    for (int jp = jp0; jp < jp1; jp++)
                    {
                        float* bp = local + (nint)(jp - jp0) * nr * kc;
                        for (int ip = ib; ip < ie; ip++)
                        {
                            Tile(ctx, kc, pc, aSlice + (nint)ip * mr * kc, bp, ctx->I0 + ip * mr, jp * nr, load, bias, edge, edgeA);
                        }
                    }
                }
            }
        }
    }

    /// <summary>One thread's loop over chunks of A panels (rows of C) against the shared B block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ComputeRowChunks(int slot, void* context)
    {
        var ctx = (Context*)context;
        int mr = ctx->MR, nr = ctx->NR;
        float* local = ctx->Locals[slot];
        float* edge = stackalloc float[mr * nr];
        float* edgeA = stackalloc float[ctx->DirectA ? mr * ctx->KC : 0];
        int chunk;
        while ((chunk = Interlocked.Increment(ref ctx->Next) - 1) < ctx->Chunks)
        {
            int ip0 = chunk * ctx->ChunkPanels;
            int ip1 = Math.Min(ip0 + ctx->ChunkPanels, ctx->MPanels);
            float* bSlice = ctx->Shared;
            for (int pc = ctx->P0; pc < ctx->P1; pc += ctx->KC, bSlice += ctx->SliceStride)
            {
                int kc = Math.Min(ctx->KC, ctx->P1 - pc);
                if (!ctx->DirectA)
                {
                    PackA(ctx, ip0 * mr, ip1 - ip0, pc, kc, local);
                }

                bool load = ctx->Accumulate || pc > 0;
                float* bias = pc == 0 ? ctx->Bias : null;
                for (int jp = 0; jp < ctx->NPanels; jp++)
                {
                    float* bp = bSlice + (nint)jp * nr * kc;
                    for (int ip = ip0; ip < ip1; ip++)
                    {
                        Tile(ctx, kc, pc, local + (nint)(ip - ip0) * mr * kc, bp, ip * mr, ctx->J0 + jp * nr, load, bias, edge, edgeA);
                    }
                }
            }
        }
    }

    /// <summary>Packs <paramref name="panels"/> consecutive MR-row panels of op(A) from <paramref name="row0"/>,
    /// k in [pc, pc + kc), panel after panel at <paramref name="dest"/>.</summary>
    private static void PackA(Context* ctx, int row0, int panels, int pc, int kc, float* dest)
    {
        int mr = ctx->MR;
        int rows = Math.Min(panels * mr, ctx->M - row0);
        if (ctx->TransA)
        {
            GemmPacking.PackCopy(ctx->A + (nint)pc * ctx->Lda + row0, ctx->Lda, rows, mr, kc, dest);
            return;
        }

        for (int q = 0; q < panels; q++, rows -= mr)
        {
            GemmPacking.PackTransposed(ctx->A + (nint)(row0 + q * mr) * ctx->Lda + pc, ctx->Lda, Math.Min(mr, rows), mr, kc,
                dest + (nint)q * mr * kc);
        }
    }

    /// <summary>Packs <paramref name="panels"/> consecutive NR-column panels of op(B) from <paramref name="col0"/>,
    /// k in [pc, pc + kc), panel after panel at <paramref name="dest"/>.</summary>
    private static void PackB(Context* ctx, int col0, int panels, int pc, int kc, float* dest)
    {
        int nr = ctx->NR;
        int cols = Math.Min(panels * nr, ctx->N - col0);
        if (!ctx->TransB)
        {
            GemmPacking.PackCopy(ctx->B + (nint)pc * ctx->Ldb + col0, ctx->Ldb, cols, nr, kc, dest);
            return;
        }

        for (int q = 0; q < panels; q++, cols -= nr)
        {
            GemmPacking.PackTransposed(ctx->B + (nint)(col0 + q * nr) * ctx->Ldb + pc, ctx->Ldb, Math.Min(nr, cols), nr, kc,
                dest + (nint)q * nr * kc);
        }
    }

    /// <summary>One MR x NR tile of C at (row0, col0), k in [pc, pc + kc); edge tiles go through a scratch
    /// tile. With DirectA the kernel reads A in place (<paramref name="ap"/> is unused), except for a
    /// last panel of fewer than MR rows, which is packed into <paramref name="edgeA"/> first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile(Context* ctx, int kc, int pc, float* ap, float* bp, int row0, int col0, bool load, float* bias, float* edge, float* edgeA)
    {
        int mr = ctx->MR, nr = ctx->NR;
        float* cp = ctx->C + (nint)row0 * ctx->Ldc + col0;
        float* biasAt = bias == null ? null : bias + col0;
        int rows = Math.Min(mr, ctx->M - row0);
        int cols = Math.Min(nr, ctx->N - col0);
        float* direct = null;
        if (ctx->DirectA)
        {
            float* a = ctx->A.Fp32 + ((nint)row0 * ctx->Lda) + pc;
            if (rows == mr)
            {
                direct = a;
            }
            else
            {
                GemmPacking.PackTransposed(a, ctx->Lda, rows, mr, kc, edgeA);
                ap = edgeA;
            }
        }

        if (rows == mr && cols == nr)
        {
            Product(ctx, kc, direct, ap, bp, cp, ctx->Ldc, load, biasAt);
        }
        else
        {
            Product(ctx, kc, direct, ap, bp, edge, nr, false, null);
            WriteEdge(edge, nr, rows, cols, cp, ctx->Ldc, load, biasAt);
        }
    }

    /// <summary>The micro-kernel on A read in place at <paramref name="direct"/>, or, when it is null, on the packed panel <paramref name="ap"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Product(Context* ctx, int kc, float* direct, float* ap, float* bp, float* c, int ldc, bool load, float* bias)
    {
        if (direct != null)
        {
            ctx->KernelStrided(kc, direct, ctx->Lda, bp, c, ldc, load, bias);
        }
        else
        {
            ctx->Kernel(kc, ap, bp, c, ldc, load, bias);
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

    private static int RoundUp(int x, int y) => CeilDiv(x, y) * y;

    /// <summary>Everything the parallel bodies need, on the caller's stack.</summary>
    private struct Context
    {
        public delegate*<int, float*, float*, float*, int, bool, float*, void> Kernel;

        /// <summary>The kernel that reads A in place, used when DirectA: A is row-major fp32 and is not packed.</summary>
        public delegate*<int, float*, nint, float*, float*, int, bool, float*, void> KernelStrided;
        public bool DirectA;
        public int MR, NR, KC, McPanels, Threads;
        public bool TransA, TransB, Accumulate;
        public int M, N, K;
        public TypedPointer A, B;
        public float* C, Bias;
        public int Lda, Ldb, Ldc;

        /// <summary>The operand packed up front: KC slices SliceStride floats apart.</summary>
        public float* Shared;
        public long SliceStride;

        /// <summary>Per-thread buffers for the operand each thread packs itself.</summary>
        public float** Locals;

        /// <summary>Current blocks: rows from I0 (shared A) or columns from J0 (shared B), k in [P0, P1).</summary>
        public int I0, J0, P0, P1, MPanels, NPanels;
        public int ChunkPanels, Chunks, Next;
    }
}
