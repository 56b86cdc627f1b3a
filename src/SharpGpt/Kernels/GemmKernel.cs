namespace SharpGpt.Kernels;

/// <summary>
/// One micro-kernel with its register tile (MR x NR) and the cache blocking tuned for it.
/// KC is the depth of a packed panel: a KC x NR panel of B stays in L1 while A panels stream
/// past it. McPanels A panels (an MC x KC block) are meant to stay in L2. A thread's share of
/// columns is at most ChunkPanelsN B panels. The operand packed up front and shared by all
/// threads is bounded by BlockPanelsM rows (A) or BlockPanelsN columns (B) and SharedFloats.
/// Products under MinParallelFlops run on the calling thread alone.
/// </summary>
internal readonly unsafe struct GemmKernel
{
    private GemmKernel(GemmPath path, int mr, int nr,
        delegate*<int, float*, float*, float*, int, bool, float*, void> run,
        delegate*<int, float*, nint, float*, float*, int, bool, float*, void> runStrided,
        int kc, int mc, int chunkN, int blockM, int blockN, int sharedFloats, double minParallelFlops)
    {
        Path = path;
        MR = mr;
        NR = nr;
        Run = run;
        RunStrided = runStrided;
        KC = Math.Max(1, kc);
        McPanels = Math.Max(1, mc / mr);
        ChunkPanelsN = Math.Max(1, chunkN / nr);
        BlockPanelsM = Math.Max(1, blockM / mr);
        BlockPanelsN = Math.Max(1, blockN / nr);
        SharedFloats = Math.Max(1, sharedFloats);
        MinParallelFlops = minParallelFlops;
    }

    public GemmPath Path { get; }

    public int MR { get; }

    public int NR { get; }

    /// <summary>run(kc, packedA, packedB, c, ldc, load, bias): C[MR,NR] = (load ? C : 0) + A·B (+ bias).</summary>
    public delegate*<int, float*, float*, float*, int, bool, float*, void> Run { get; }

    /// <summary>runStrided(kc, a, lda, packedB, c, ldc, load, bias): as <see cref="Run"/> with MR rows of
    /// a row-major fp32 A read in place (row r at a + r lda); null when the kernel always packs A.</summary>
    public delegate*<int, float*, nint, float*, float*, int, bool, float*, void> RunStrided { get; }

    public int KC { get; }

    public int McPanels { get; }

    public int ChunkPanelsN { get; }

    public int BlockPanelsM { get; }

    public int BlockPanelsN { get; }

    public int SharedFloats { get; }

    public double MinParallelFlops { get; }

    /// <summary>The fastest path this CPU runs natively.</summary>
    public static GemmPath Detect() =>
        GemmKernelAvx512.IsSupported ? GemmPath.Avx512
        : GemmKernelAvx2.IsSupported ? GemmPath.Avx2
        : GemmPath.Portable;

    /// <summary>Whether <paramref name="path"/> can run here (AVX-512 is emulated where missing).</summary>
    public static bool CanRun(GemmPath path) => path switch
    {
        GemmPath.Avx2 => GemmKernelAvx2.IsSupported,
        _ => true,
    };

    public static GemmKernel For(GemmPath path) => path switch
    {
        // Zen 4/5: 48 KiB L1D, 1 MiB L2. A 256x32 B panel is 32 KiB; a 256x256 A block 256 KiB.
        GemmPath.Avx512 => new(path, GemmKernelAvx512.MR, GemmKernelAvx512.NR, &GemmKernelAvx512.Run, null,
            kc: 256, mc: 256, chunkN: 256, blockM: 1024, blockN: 4096, sharedFloats: 1 << 20, minParallelFlops: 4e6),

        // Zen 3 class: 32 KiB L1D, 512 KiB L2. A 256x16 B panel is 16 KiB; a 240x256 A block 240 KiB.
        GemmPath.Avx2 => new(path, GemmKernelAvx2.MR, GemmKernelAvx2.NR, &GemmKernelAvx2.Run, &GemmKernelAvx2.RunStrided,
            kc: 256, mc: 240, chunkN: 128, blockM: 1020, blockN: 4096, sharedFloats: 1 << 20, minParallelFlops: 4e6),
        GemmPath.Portable => new(path, GemmKernelPortable.MR, GemmKernelPortable.NR, &GemmKernelPortable.Run, null,
            kc: 256, mc: 128, chunkN: 128, blockM: 1024, blockN: 4096, sharedFloats: 1 << 20, minParallelFlops: 4e6),
        _ => For(Detect()),
    };

    /// <summary>The same micro-kernel with other blocking; lets tests drive every loop with small matrices.</summary>
    public GemmKernel WithBlocking(int kc, int mc, int chunkN, int blockM, int blockN, int sharedFloats, double minParallelFlops) =>
        new(Path, MR, NR, Run, RunStrided, kc, mc, chunkN, blockM, blockN, sharedFloats, minParallelFlops);
}
