using SharpGpt.Tests.Data;

namespace SharpGpt.Tests.Cli;

[Collection(ConsoleCollection.Name)]
public sealed class DtypeCommandTests
{
    [Fact]
    public void BenchRunsInBf16AndReportsIt()
    {
        string[] common = ["bench", "--layers", "1", "--heads", "2", "--embd", "16", "--vocab", "65", "--block-size", "16",
            "--batch", "2", "--seq", "16", "--steps", "1", "--warmup", "0", "--peak-gflops", "10", "--threads", "1"];
        var bf16 = CliRunner.Run([.. common, "--dtype", "bf16"]);
        Assert.True(bf16.Code == 0, bf16.Out + bf16.Err);
        Assert.Contains("\"dtype\":\"bf16\"", bf16.Out);

        var fp16 = CliRunner.Run([.. common, "--dtype", "fp16"]);
        Assert.NotEqual(0, fp16.Code);
        Assert.Contains("bf16", fp16.Err);
    }

    [Fact]
    public void TrainInBf16ThenResumeInFp32()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("input.txt"), string.Concat(Enumerable.Repeat("To be, or not to be, that is the question.\n", 300)));
        string data = dir.File("data"), output = dir.File("out");
        Assert.Equal(0, CliRunner.Run("prepare", "--input", dir.File("input.txt"), "--out", data, "--tokenizer", "char").Code);
        string[] train = ["train", "--data", data, "--out", output, "--layers", "1", "--heads", "2", "--embd", "16", "--seq-len", "16",
            "--micro-batch", "2", "--val-every", "0", "--checkpoint-every", "2", "--threads", "1"];

        var bf16 = CliRunner.Run([.. train, "--max-steps", "2", "--dtype", "bf16"]);
        Assert.True(bf16.Code == 0, bf16.Out + bf16.Err);
        Assert.Contains("precision: bf16", bf16.Out);

        var fp32 = CliRunner.Run([.. train, "--max-steps", "3", "--resume"]);
        Assert.True(fp32.Code == 0, fp32.Out + fp32.Err);
        Assert.Contains("the checkpoint was trained in bf16, this run continues in fp32", fp32.Out);
        Assert.Contains("step     3/3 | loss", fp32.Out);
    }
}
