namespace SharpGpt.Training;

/// <summary>
/// The few collective operations data-parallel training needs. The single-process
/// implementation does nothing; an MPI (or GPU collective) implementation sums across ranks.
/// Every rank must make the same calls in the same order.
/// </summary>
internal unsafe interface ICollectives : IDisposable
{
    int Rank { get; }

    int WorldSize { get; }

    /// <summary>Sums a float buffer element-wise across ranks, in place (split into chunks as the implementation sees fit).</summary>
    void AllReduceSum(float* data, long count);

    /// <summary>Sums a few doubles across ranks, in place (losses, counts).</summary>
    void AllReduceSum(Span<double> values);

    /// <summary>
    /// Reduce-scatter, in place: <paramref name="data"/> holds one block per rank, block r of
    /// <paramref name="counts"/>[r] floats, in rank order. Afterwards data[0 .. counts[Rank]) holds
    /// the sum over ranks of this rank's block; the rest of data is left undefined.
    /// </summary>
    void ReduceScatterSum(float* data, ReadOnlySpan<int> counts);

    /// <summary>
    /// All-gather, in place: <paramref name="data"/> holds one block per rank in rank order (block r
    /// of <paramref name="counts"/>[r] floats); each rank fills its own block, and afterwards every
    /// rank holds every block.
    /// </summary>
    void AllGather(float* data, ReadOnlySpan<int> counts);

    /// <summary>Copies <paramref name="bytes"/> bytes from rank <paramref name="root"/> to every rank.</summary>
    void Broadcast(void* data, long bytes, int root);

    /// <summary>Waits for every rank.</summary>
    void Barrier();
}
