using SharpGpt.Kernels;
using SharpGpt.Model;
using SharpGpt.Training;

namespace SharpGpt.Tests.Training;

public sealed class BatchPlanTests
{
    [Fact]
    public void AccumulationStepsComeFromTheTotal()
    {
        var plan = BatchPlan.Create(524_288, 16, 1024, 2);
        Assert.Equal(16, plan.AccumulationSteps);
        Assert.Equal(1, BatchPlan.Create(0, 4, 64).AccumulationSteps);
    }

    [Fact]
    public void ATotalThatDoesNotDivideSaysWhatWorks()
    {
        var e = Assert.Throws<SharpGptException>(() => BatchPlan.Create(1000, 4, 64));
        Assert.Contains("not a multiple of micro-batch x seq-len x ranks = 4 x 64 x 1 = 256", e.Message);
        Assert.Contains("768 or 1024", e.Message);

        e = Assert.Throws<SharpGptException>(() => BatchPlan.Create(3 * 64 * 5, 2, 64));
        Assert.Contains("MicroBatchSize 1, 3, 5, 15", e.Message);
    }

    [Fact]
    public void AutoPicksTheLargestDividingMicroBatchThatFits()
    {
        using var runner = new ParallelRunner(1);
        var kernels = new CpuKernels(runner);
        var config = new GptConfig(64, 65, 4, 4, 128);
        long state = BatchPlan.StateBytes(config);
        long perSeq8 = Activations.BytesFor(config, kernels, 8, 64);
        var (plan, bytes) = BatchPlan.Auto(config, kernels, 64 * 24, 64, 1, state + perSeq8);
        Assert.Equal(8, plan.MicroBatch);
        Assert.Equal(3, plan.AccumulationSteps);
        Assert.True(bytes <= state + perSeq8);

        var (all, _) = BatchPlan.Auto(config, kernels, 64 * 24, 64, 1, 1L << 40);
        Assert.Equal(24, all.MicroBatch);
        Assert.Contains("even micro-batch 1 needs", Assert.Throws<SharpGptException>(() => BatchPlan.Auto(config, kernels, 64 * 24, 64, 1, 1000)).Message);
    }

    [Theory]
    [InlineData("8GiB", 8L << 30)]
    [InlineData("512MiB", 512L << 20)]
    [InlineData("2GB", 2_000_000_000L)]
    [InlineData("1000", 1000L)]
    public void ParsesMemorySizes(string text, long bytes) => Assert.Equal(bytes, SharpGpt.Cli.ByteSize.Parse(text, "--memory-budget"));
}
