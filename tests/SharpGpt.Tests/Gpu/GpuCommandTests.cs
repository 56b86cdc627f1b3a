using SharpGpt.Data;
using SharpGpt.Tests.Cli;
using SharpGpt.Tests.Data;
using SharpGpt.Training;

namespace SharpGpt.Tests.Gpu;

/// <summary>sample, eval and hellaswag through the CLI on --device cuda-emulated give what they give on --device cpu.</summary>
[Collection(EmulatedGpuCollection.Name)]
public sealed class GpuCommandTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly string _data;
    private readonly string _checkpoint;

    public GpuCommandTests()
    {
        _data = _dir.File("data");
        string text = string.Concat(Enumerable.Repeat("To be, or not to be, that is the question.\n", 60));
        DataPreparer.PrepareText(text, _data, new PrepareOptions { Tokenizer = TokenizerKind.Character });
        string output = _dir.File("out");
        var train = CliRunner.Run("train", "--device", "cpu", "--data", _data, "--out", output, "--layers", "2", "--heads", "2", "--embd", "32",
            "--seq-len", "16", "--micro-batch", "4", "--max-steps", "10", "--val-every", "0", "--sample-tokens", "0", "--threads", "1");
        Assert.True(train.Code == 0, train.Out + train.Err);
        _checkpoint = TrainingCheckpoint.PathFor(output, 10);
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void GreedySamplingGivesTheCpusText()
    {
        string[] args = ["sample", "--checkpoint", _checkpoint, "--prompt", "To be", "--tokens", "12", "--temperature", "0", "--threads", "1"];
        var cpu = CliRunner.Run([.. args, "--device", "cpu"]);
        var gpu = CliRunner.Run([.. args, "--device", "cuda-emulated"]);
        Assert.True(gpu.Code == 0, gpu.Err);
        Assert.Equal(cpu.Out, gpu.Out);
        Assert.Contains("device: cuda-emulated", gpu.Err);
    }

    [Fact]
    public void EvaluationGivesTheCpusLoss()
    {
        string[] args = ["eval", "--checkpoint", _checkpoint, "--data", _data, "--batch", "2", "--seq", "16", "--steps", "2", "--threads", "1"];
        var cpu = CliRunner.Run([.. args, "--device", "cpu"]);
        var gpu = CliRunner.Run([.. args, "--device", "cuda-emulated"]);
        Assert.True(gpu.Code == 0, gpu.Err);
        string Loss(string output) => System.Text.RegularExpressions.Regex.Match(output, @"val loss (\d+\.\d{4})").Groups[1].Value;
        Assert.NotEmpty(Loss(cpu.Out));
        Assert.Equal(Loss(cpu.Out), Loss(gpu.Out));
        Assert.StartsWith("device: cuda-emulated", gpu.Out);
    }
}
