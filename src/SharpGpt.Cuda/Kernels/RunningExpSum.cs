namespace SharpGpt.Gpu.Kernels;

/// <summary>
/// A maximum and the sum of exponentials relative to it, kept in one pass over values: the sum is
/// rescaled when the maximum grows. Each lane keeps its own; <see cref="WarpTotal"/> brings them
/// to the warp's. The softmax and the cross-entropy find a row's normaliser this way.
/// </summary>
internal readonly struct RunningExpSum(float max, float sum)
{
    public static RunningExpSum Empty => new(float.NegativeInfinity, 0f);

    public float Max => max;

    public float Sum => sum;

    public RunningExpSum Add(float x) =>
        x > max ? new(x, (sum * KernelMath.Exp(max - x)) + 1f) : new(max, sum + KernelMath.Exp(x - max));

    /// <summary>The warp's maximum and its sum of exponentials relative to it, in every lane.</summary>
    public RunningExpSum WarpTotal()
    {
        float warpMax = KernelMath.WarpMax(max);
        return new(warpMax, KernelMath.WarpSum(sum == 0 ? 0 : sum * KernelMath.Exp(max - warpMax)));
    }
}
