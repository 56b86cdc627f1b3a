using SharpGpt.Tests.Cli;
using SharpGpt.Tests.Data;

namespace SharpGpt.Tests.Eval;

[Collection(ConsoleCollection.Name)]
public sealed class VerifyCommandTests
{
    private static (int Code, string Output) Run(params string[] args)
    {
        var (code, output, _) = CliRunner.Capture(() => new System.CommandLine.RootCommand { SharpGpt.Cli.Commands.VerifyCommand.Create() }.Parse(["verify", .. args]).Invoke());
        return (code, output);
    }

    [Fact]
    public void PassesOnTheFixtureAndPrintsTheLossOfEachStep()
    {
        var (code, output) = Run("--model", ReferenceFixtureTests.FixturePath("odd_model.bin"), "--state", ReferenceFixtureTests.FixturePath("odd_state.bin"),
            "--steps", "10", "--expected-losses", ReferenceFixtureTests.FixturePath("odd_losses.json"), "--threads", "2");
        Assert.Equal(0, code);
        Assert.Contains("step 0 loss 4.8607", output);
        Assert.Contains("step 9 loss", output);
        Assert.Contains("verify: OK", output);
    }

    [Fact]
    public void FailsWithANonZeroExitWhenTheModelIsWrong()
    {
        using var dir = new TempDirectory();
        string model = Path.Combine(dir.Path, "model.bin");
        byte[] bytes = File.ReadAllBytes(ReferenceFixtureTests.FixturePath("tiny_model.bin"));
        // Double the final LayerNorm's gain of one channel (lnfw is followed only by lnfb, C = 32 floats each).
        int offset = bytes.Length - (4 * 64) + (4 * 5);
        BitConverter.GetBytes(BitConverter.ToSingle(bytes, offset) * 2f).CopyTo(bytes, offset);
        File.WriteAllBytes(model, bytes);
        var (code, output) = Run("--model", model, "--state", ReferenceFixtureTests.FixturePath("tiny_state.bin"));
        Assert.Equal(1, code);
        Assert.Contains("MISMATCH", output);
        Assert.Contains("verify: MISMATCH", output);
    }
}
