namespace SharpGpt.Training;

/// <summary>
/// The few collective operations data-parallel training needs. The single-process
/// implementation does nothing; an MPI (or GPU collective) implementation sums across ranks.
/// </summary>
public unsafe interface ICollectives : IDisposable
{
    int Rank { get; }

    int WorldSize { get; }

    /// <summary>Sums a float buffer element-wise across ranks, in place.</summary>
    void AllReduceSum(float* data, long count);

    /// <summary>Sums a few doubles across ranks, in place (losses, counts).</summary>
    void AllReduceSum(Span<double> values);

    /// <summary>Waits for every rank.</summary>
    void Barrier();
}
