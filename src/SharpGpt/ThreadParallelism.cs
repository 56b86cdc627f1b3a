namespace SharpGpt;

/// <summary>How training puts the CPU's threads to work.</summary>
public enum ThreadParallelism
{
    /// <summary><see cref="Batch"/> for models of up to 20M parameters whose micro-batch splits evenly over the
    /// threads, otherwise <see cref="Kernels"/>.</summary>
    Auto,

    /// <summary>One model; every kernel is split over all threads, which meet after each kernel.</summary>
    Kernels,

    /// <summary>Each thread is a data-parallel rank with its own replica and an equal share of the micro-batch;
    /// the ranks meet once per optimizer step to sum gradients.</summary>
    Batch,
}
