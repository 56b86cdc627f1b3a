namespace SharpGpt.Kernels;

/// <summary>
/// One micro-kernel with its register tile (MR x NR) and the cache blocking tuned for it:
/// KC is the depth of a packed panel (a KC x NR panel of B stays in L1 while A panels stream),
/// a tile of TileM x TileN is one unit of parallel work (its KC x TileM block of packed A stays
/// in L2), and BlockM x BlockN bounds the packed blocks shared by all threads (B in L3).
/// </summary>
internal readonly unsafe struct GemmKernel
{
    private GemmKernel(GemmPath path, int mr, int nr, int kc, int tileM, int tileN, int blockM, int blockN,
        delegate*<int, float*, float*, float*, int, bool, float*, void> run)
    {
        Path = path;
        MR = mr;
        NR = nr;
        KC = kc;
        TilePanelsM = Math.Max(1, tileM / mr);
        TilePanelsN = Math.Max(1, tileN / nr);
        BlockPanelsM = Math.Max(1, blockM / mr);
        BlockPanelsN = Math.Max(1, blockN / nr);
        Run = run;
    }

    public GemmPath Path { get; }

    public int MR { get; }

    public int NR { get; }

    public int KC { get; }

    public int TilePanelsM { get; }

    public int TilePanelsN { get; }

    public int BlockPanelsM { get; }

    public int BlockPanelsN { get; }

    /// <summary>run(kc, packedA, packedB, c, ldc, load, bias): C[MR,NR] = (load ? C : 0) + A·B (+ bias).</summary>
    public delegate*<int, float*, float*, float*, int, bool, float*, void> Run { get; }

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
        // Zen 4/5: 48 KiB L1D, 1 MiB L2. A 256x32 B panel is 32 KiB.
        GemmPath.Avx512 => new(path, GemmKernelAvx512.MR, GemmKernelAvx512.NR, 256, 256, 384, 1024, 4096,
            &GemmKernelAvx512.Run),

        // 32-48 KiB L1D, >= 512 KiB L2. A 256x16 B panel is 16 KiB; a 240x256 A tile is 240 KiB.
        GemmPath.Avx2 => new(path, GemmKernelAvx2.MR, GemmKernelAvx2.NR, 256, 240, 384, 960, 4096,
            &GemmKernelAvx2.Run),
        GemmPath.Portable => new(path, GemmKernelPortable.MR, GemmKernelPortable.NR, 256, 128, 384, 1024, 4096,
            &GemmKernelPortable.Run),
        _ => For(Detect()),
    };
}
