namespace SharpGpt.Training;

/// <summary>
/// How a process's threads are split: <see cref="Ranks"/> data-parallel ranks (threads of this
/// process, each with its own model replica) of <see cref="ThreadsPerRank"/> kernel threads each.
/// </summary>
internal sealed record ThreadPlan(int Ranks, int ThreadsPerRank)
{
    /// <summary>
    /// Up to this many parameters <see cref="ThreadParallelism.Auto"/> prefers batch parallelism. A
    /// small model's kernels are too short for their threads to meet after each one cheaply: for the
    /// Tiny Shakespeare model (0.8M parameters) a step takes 32-40 ms with split kernels and 32 ms as
    /// two ranks. GPT-2 124M's kernels are long enough that splitting them is as fast, and it keeps
    /// one copy of the weights and of AdamW's moments.
    /// </summary>
    public const long SmallModelParameters = 20_000_000;

    /// <summary>Picks the split for <paramref name="threads"/> threads, a micro-batch of
    /// <paramref name="microBatch"/> sequences, <paramref name="processRanks"/> MPI ranks and a model of
    /// <paramref name="parameters"/> parameters; throws when an explicit choice cannot be honoured.</summary>
    public static ThreadPlan Choose(ThreadParallelism mode, int threads, int microBatch, int processRanks, long parameters)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        bool splits = microBatch % threads == 0;
        switch (mode)
        {
            case ThreadParallelism.Batch when threads > 1 && processRanks > 1:
                throw new SharpGptException("Parallelism", "batch parallelism runs ranks as threads of one process, and under mpirun the ranks are processes", "use kernel parallelism.");
            case ThreadParallelism.Batch when !splits:
                throw new SharpGptException("Parallelism", $"batch parallelism gives each of the {threads} threads an equal share of the micro-batch, and {microBatch} sequences do not split {threads} ways", $"use a micro-batch that is a multiple of {threads}, other Threads, or kernel parallelism.");
            case ThreadParallelism.Batch:
                return new ThreadPlan(threads, 1);
            case ThreadParallelism.Auto when threads > 1 && processRanks == 1 && splits && parameters <= SmallModelParameters:
                return new ThreadPlan(threads, 1);
            default:
                return new ThreadPlan(1, threads);
        }
    }

    /// <summary>One line for the log.</summary>
    public string Describe(int microBatch) => Ranks == 1
        ? $"threads: {ThreadsPerRank}, each kernel split over all of them"
        : $"threads: {Ranks} data-parallel ranks of one thread each, micro-batch {microBatch} split {microBatch / Ranks} per rank, gradients summed once per step (kernel parallelism splits each kernel instead)";
}
