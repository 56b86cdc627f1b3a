using SharpGpt.Training;

namespace SharpGpt.Tests.Training;

public sealed class ThreadPlanTests
{
    [Theory]
    [InlineData(ThreadParallelism.Auto, 2, 12, 1, 800_000L, 2, 1)] // the Tiny Shakespeare run: two ranks
    [InlineData(ThreadParallelism.Auto, 2, 4, 1, 124_000_000L, 1, 2)] // GPT-2 124M: split kernels
    [InlineData(ThreadParallelism.Auto, 4, 6, 1, 800_000L, 1, 4)] // 6 sequences do not split 4 ways
    [InlineData(ThreadParallelism.Auto, 2, 12, 2, 800_000L, 1, 2)] // under mpirun ranks are processes
    [InlineData(ThreadParallelism.Auto, 1, 12, 1, 800_000L, 1, 1)]
    [InlineData(ThreadParallelism.Kernels, 2, 12, 1, 800_000L, 1, 2)]
    [InlineData(ThreadParallelism.Batch, 2, 4, 1, 124_000_000L, 2, 1)]
    [InlineData(ThreadParallelism.Batch, 1, 3, 1, 800_000L, 1, 1)]
    public void Choose(ThreadParallelism mode, int threads, int microBatch, int processRanks, long parameters, int ranks, int threadsPerRank) =>
        Assert.Equal(new ThreadPlan(ranks, threadsPerRank), ThreadPlan.Choose(mode, threads, microBatch, processRanks, parameters));

    [Fact]
    public void AnExplicitBatchSplitThatCannotWorkSaysWhy()
    {
        var e = Assert.Throws<SharpGptException>(() => ThreadPlan.Choose(ThreadParallelism.Batch, 4, 6, 1, 1000));
        Assert.Contains("6 sequences do not split 4 ways", e.Message);
        Assert.Contains("under mpirun", Assert.Throws<SharpGptException>(() => ThreadPlan.Choose(ThreadParallelism.Batch, 2, 4, 2, 1000)).Message);
    }
}
