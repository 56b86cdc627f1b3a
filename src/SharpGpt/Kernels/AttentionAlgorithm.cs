namespace SharpGpt.Kernels;

/// <summary>Which attention kernel <see cref="CpuKernels"/> runs.</summary>
internal enum AttentionAlgorithm
{
    /// <summary><see cref="FlashAttention"/>: tiled with an online softmax; state linear in T (the default).</summary>
    Flash,

    /// <summary><see cref="Attention"/>: keeps the (B, NH, T, T) softmax; the reference.</summary>
    Plain,
}
