using SharpGpt.Tests.Data;
using SharpGpt.Training;

namespace SharpGpt.Tests.Cli;

[Collection(ConsoleCollection.Name)]
public sealed class TrainSampleEvalTests
{
    [Fact]
    public void TrainsSamplesAndEvaluatesFromTheCommandLine()
    {
        using var dir = new TempDirectory();
        string text = string.Concat(Enumerable.Repeat("To be, or not to be, that is the question.\n", 300));
        File.WriteAllText(dir.File("input.txt"), text);
        string data = dir.File("data"), output = dir.File("out");
        Assert.Equal(0, CliRunner.Run("prepare", "--input", dir.File("input.txt"), "--out", data, "--tokenizer", "char").Code);

        var train = CliRunner.Run("train", "--data", data, "--out", output, "--layers", "1", "--heads", "2", "--embd", "16", "--seq-len", "16",
            "--micro-batch", "2", "--total-batch-tokens", "64", "--max-steps", "3", "--val-every", "2", "--val-steps", "1", "--sample-every", "3",
            "--sample-tokens", "20", "--threads", "1");
        Assert.True(train.Code == 0, train.Out + train.Err);
        Assert.Contains("2 accumulation step(s) = 64 tokens/step", train.Out);
        Assert.Contains("step     3/3 | loss", train.Out);
        Assert.Contains("val loss", train.Out);
        Assert.Contains("final validation loss", train.Out);
        Assert.Equal(3, MetricsLog.Read(Path.Combine(output, "metrics.jsonl")).Count);
        Assert.True(File.Exists(Path.Combine(output, "loss.png")));
        string checkpoint = TrainingCheckpoint.PathFor(output, 3);
        Assert.True(File.Exists(checkpoint));

        var sample = CliRunner.Run("sample", "--checkpoint", checkpoint, "--prompt", "To be", "--tokens", "30", "--threads", "1");
        Assert.True(sample.Code == 0, sample.Err);
        Assert.True(sample.Out.Trim().Length > 0);
        Assert.All(sample.Out.Trim(), c => Assert.Contains(c, text));
        Assert.Equal(sample.Out, CliRunner.Run("sample", "--checkpoint", checkpoint, "--prompt", "To be", "--tokens", "30", "--threads", "1").Out);

        var eval = CliRunner.Run("eval", "--checkpoint", checkpoint, "--data", data, "--batch", "2", "--seq", "16", "--threads", "1");
        Assert.True(eval.Code == 0, eval.Err);
        Assert.Matches(@"val loss \d+\.\d{4} over", eval.Out);
    }

    [Fact]
    public void TheTinyShakespeareDefaultMeasuresItsWholeValidationSplitAndValStepsOtherwise()
    {
        using var dir = new TempDirectory();
        var whole = CliRunner.Run("train", "--out", dir.File("whole"), "--max-steps", "1", "--sample-tokens", "1");
        Assert.True(whole.Code == 0, whole.Out + whole.Err);
        Assert.Contains("step 1: val loss", whole.Out);
        Assert.Contains("final validation loss (whole split)", whole.Out);

        var some = CliRunner.Run("train", "--out", dir.File("some"), "--max-steps", "1", "--sample-tokens", "1", "--val-steps", "2");
        Assert.True(some.Code == 0, some.Out + some.Err);
        Assert.Contains("final validation loss (2 batches)", some.Out);

        var none = CliRunner.Run("train", "--out", dir.File("none"), "--max-steps", "1", "--sample-tokens", "1", "--val-every", "0");
        Assert.True(none.Code == 0, none.Out + none.Err);
        Assert.DoesNotContain("val loss", none.Out);
        Assert.DoesNotContain("final validation loss", none.Out);
    }

    [Fact]
    public void TrainsWithTheThreadsAsDataParallelRanks()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("input.txt"), string.Concat(Enumerable.Repeat("To be, or not to be, that is the question.\n", 300)));
        string data = dir.File("data"), output = dir.File("out");
        Assert.Equal(0, CliRunner.Run("prepare", "--input", dir.File("input.txt"), "--out", data, "--tokenizer", "char").Code);
        string[] common = ["train", "--data", data, "--layers", "1", "--heads", "2", "--embd", "16", "--seq-len", "16", "--max-steps", "3", "--threads", "2", "--parallel", "batch"];

        var train = CliRunner.Run([.. common, "--out", output, "--micro-batch", "4"]);
        Assert.True(train.Code == 0, train.Out + train.Err);
        Assert.Contains("threads: 2 data-parallel ranks of one thread each, micro-batch 4 split 2 per rank", train.Out);
        Assert.Contains("2 x 16 tokens x 2 rank(s) x 1 accumulation step(s) = 64 tokens/step", train.Out);
        Assert.Single(train.Out.Split('\n'), line => line.StartsWith("step     3/3 | loss", StringComparison.Ordinal));
        Assert.Contains("final validation loss", train.Out);
        Assert.True(File.Exists(TrainingCheckpoint.PathFor(output, 3)));

        var odd = CliRunner.Run([.. common, "--out", dir.File("odd"), "--micro-batch", "3"]);
        Assert.NotEqual(0, odd.Code);
        Assert.Contains("3 sequences do not split 2 ways", odd.Out + odd.Err);
    }

    [Fact]
    public void ATotalBatchThatDoesNotDivideIsAClearError()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("input.txt"), string.Concat(Enumerable.Repeat("abc def\n", 500)));
        string data = dir.File("data");
        Assert.Equal(0, CliRunner.Run("prepare", "--input", dir.File("input.txt"), "--out", data, "--tokenizer", "char").Code);
        var run = CliRunner.Run("train", "--data", data, "--out", dir.File("out"), "--layers", "1", "--heads", "1", "--embd", "8", "--seq-len", "8",
            "--micro-batch", "3", "--total-batch-tokens", "100", "--max-steps", "1");
        Assert.NotEqual(0, run.Code);
        Assert.Contains("not a multiple of micro-batch x seq-len x ranks = 3 x 8 x 1 = 24", run.Out + run.Err);
    }
}
