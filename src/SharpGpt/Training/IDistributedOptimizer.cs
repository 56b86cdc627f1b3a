namespace SharpGpt.Training;

/// <summary>
/// The optimizer as a data-parallel step sees it: it combines the ranks' accumulated gradients,
/// knows the norm of their sum, updates the weights so that every rank ends with the same ones,
/// and reads and writes its moments in the checkpoint's full layout however it holds them
/// (every rank all of them, or each rank a shard for ZeRO-1).
/// </summary>
internal interface IDistributedOptimizer : IDisposable
{
    AdamWSettings Settings { get; }

    /// <summary>Number of updates done so far.</summary>
    int Step { get; set; }

    /// <summary>Bytes of AdamW moments this rank holds.</summary>
    long MomentBytes { get; }

    /// <summary>
    /// Sums the ranks' accumulated gradients (as far as this rank needs them) and returns the L2
    /// norm of the summed gradient. Called once per optimizer step, after the last micro-step.
    /// </summary>
    double ReduceGradients();

    /// <summary>One AdamW update from the reduced gradients, each first multiplied by gradScale; it
    /// leaves the whole gradient buffer zeroed, ready for the next step's accumulation.</summary>
    void Update(float learningRate, float gradScale);

    /// <summary>
    /// Writes the first then the second moments, each in the parameter layout, to
    /// <paramref name="destination"/>. Every rank calls it; only the writing rank passes a stream.
    /// </summary>
    void WriteMoments(Stream? destination);

    /// <summary>Reads this rank's part of the moments from a stream positioned where <see cref="WriteMoments"/> began.</summary>
    void ReadMoments(Stream source);
}
