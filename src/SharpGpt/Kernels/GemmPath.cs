namespace SharpGpt.Kernels;

/// <summary>The instruction-set variants of the GEMM micro-kernel.</summary>
internal enum GemmPath
{
    /// <summary>Pick the fastest path this CPU runs natively.</summary>
    Auto = 0,

    /// <summary>8x32 tile held in 16 zmm accumulators (Vector512 FMA).</summary>
    Avx512,

    /// <summary>6x16 tile held in 12 ymm accumulators (AVX2 + FMA3).</summary>
    Avx2,

    /// <summary>4 x (2 * Vector&lt;float&gt;.Count) tile with Vector&lt;T&gt; multiply-add; runs anywhere.</summary>
    Portable,
}
