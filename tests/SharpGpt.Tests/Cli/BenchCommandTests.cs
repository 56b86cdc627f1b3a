namespace SharpGpt.Tests.Cli;

[Collection(ConsoleCollection.Name)]
public sealed class BenchCommandTests
{
    private static readonly string[] Common = ["bench", "--layers", "1", "--heads", "2", "--embd", "16", "--vocab", "65", "--block-size", "16",
        "--batch", "4", "--seq", "16", "--steps", "2", "--warmup", "1", "--peak-gflops", "10", "--threads", "2"];

    [Fact]
    public void BenchRunsTheThreadsAsRanksWithAProfile()
    {
        var run = CliRunner.Run([.. Common, "--parallel", "batch", "--profile"]);
        Assert.True(run.Code == 0, run.Out + run.Err);
        Assert.Contains("\"ranks\":2", run.Out);

        // Only rank 0 reports its steps.
        Assert.Single(run.Out.Split('\n'), line => line.StartsWith("step 1:", StringComparison.Ordinal));
    }

    [Fact]
    public void BenchSplitsKernelsWhenAsked()
    {
        var run = CliRunner.Run([.. Common, "--parallel", "kernels"]);
        Assert.True(run.Code == 0, run.Out + run.Err);
        Assert.Contains("\"ranks\":1", run.Out);
        Assert.Contains("\"threads\":2", run.Out);
        Assert.Contains($"\"gemm\":\"{SharpGpt.Kernels.PeakFlops.InstructionSet}\"", run.Out);

        // The header is one line however long, not wrapped at 80 columns as Spectre wraps redirected output.
        string header = Assert.Single(run.Out.Split('\n'), line => line.StartsWith("bench: ", StringComparison.Ordinal));
        Assert.True(header.Length > 80, header);
        Assert.Contains("fp32, activations", header);
    }
}
