using System.Text.Json;
using SharpGpt.Data;
using SharpGpt.Formats;
using SharpGpt.Kernels;
using SharpGpt.Tests.Data;
using SharpGpt.Tests.Eval;
using SharpGpt.Training;

namespace SharpGpt.Tests.Cli;

[Collection(ConsoleCollection.Name)]
public sealed class HellaSwagCommandTests
{
    [Fact]
    public void PrintsAccAndAccNormAndWritesThePredictions()
    {
        using var dir = new TempDirectory();
        var (examples, scores) = HellaSwagTests.KnownCase(new Gpt2Tokenizer());
        using (var runner = new ParallelRunner(1))
        using (var model = HellaSwagTestModels.FixedScores(runner, scores))
        {
            LlmcCheckpoint.Save(model, dir.File("known.bin"));
        }

        File.WriteAllLines(dir.File("val.jsonl"), examples.Select(e => HellaSwagTestModels.Line(e.Context, [.. e.Endings], e.Label)));
        var run = CliRunner.Run("hellaswag", "--checkpoint", dir.File("known.bin"), "--data", dir.File("val.jsonl"), "--predictions", dir.File("pred.jsonl"), "--threads", "1");
        Assert.True(run.Code == 0, run.Err);
        Assert.Contains("hellaswag: acc 0.3333 (1/3), acc_norm 0.6667 (2/3), count 3", run.Out);
        Assert.Contains("hellaswag: 3/3", run.Err);

        string[] lines = File.ReadAllLines(dir.File("pred.jsonl"));
        Assert.Equal(3, lines.Length);
        using var second = JsonDocument.Parse(lines[1]);
        var p = second.RootElement;
        Assert.Equal(1, p.GetProperty("index").GetInt32());
        Assert.Equal(0, p.GetProperty("label").GetInt32());
        Assert.Equal(1, p.GetProperty("pred").GetInt32());
        Assert.Equal(0, p.GetProperty("pred_norm").GetInt32());
        Assert.False(p.GetProperty("correct").GetBoolean());
        Assert.True(p.GetProperty("correct_norm").GetBoolean());
        Assert.Equal([4, 1, 1, 1], p.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()));
        Assert.Equal(4, p.GetProperty("sum_loss").GetArrayLength());

        var limited = CliRunner.Run("hellaswag", "--checkpoint", dir.File("known.bin"), "--data", dir.File("val.jsonl"), "--limit", "1", "--threads", "1");
        Assert.Contains("acc 1.0000 (1/1), acc_norm 1.0000 (1/1), count 1", limited.Out);
    }

    [Fact]
    public void AModelWithoutATokenizerIsAClearError()
    {
        using var dir = new TempDirectory();
        File.WriteAllLines(dir.File("val.jsonl"), [HellaSwagTestModels.Line("a", ["b", "c", "d", "e"], 0)]);
        var run = CliRunner.Run("hellaswag", "--checkpoint", ReferenceFixtureTests.FixturePath("tiny_model.bin"), "--data", dir.File("val.jsonl"));
        Assert.Equal(1, run.Code);
        Assert.Contains("records no tokenizer", run.Err);
    }

    [Fact]
    public void TrainingLogsHellaAccEveryNStepsAndAtTheEnd()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("input.txt"), string.Concat(Enumerable.Repeat("the cat sat on the mat. a dog ran far.\n", 200)));
        Assert.Equal(0, CliRunner.Run("prepare", "--input", dir.File("input.txt"), "--out", dir.File("data"), "--tokenizer", "char").Code);
        File.WriteAllLines(dir.File("val.jsonl"), [
            HellaSwagTestModels.Line("the cat", ["sat on the mat.", "ran far.", "dog", "a"], 0),
            HellaSwagTestModels.Line("a dog", ["ran far.", "mat", "the cat sat", "on"], 0),
            HellaSwagTestModels.Line("the", ["cat", "dog", "mat", "far"], 0),
        ]);
        string output = dir.File("out");
        var train = CliRunner.Run("train", "--data", dir.File("data"), "--out", output, "--layers", "1", "--heads", "2", "--embd", "16", "--seq-len", "16",
            "--micro-batch", "2", "--max-steps", "3", "--val-every", "0", "--sample-tokens", "0", "--hellaswag", dir.File("val.jsonl"),
            "--hellaswag-every", "2", "--threads", "1");
        Assert.True(train.Code == 0, train.Out + train.Err);
        Assert.Contains("step 2: HellaSwag acc_norm", train.Out);
        Assert.Contains("over 3 examples", train.Out);
        var metrics = MetricsLog.Read(Path.Combine(output, "metrics.jsonl"));
        Assert.Equal([null, true, true], metrics.Select(m => m.HellaSwagAccuracy is float a ? (bool?)(a is >= 0 and <= 1) : null));
        Assert.Contains("\"hella_acc\":", File.ReadAllLines(Path.Combine(output, "metrics.jsonl"))[1]);
    }

    [Fact]
    public void TrainingRefusesAHellaSwagFileItCannotTokenizeBeforeTheFirstStep()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("input.txt"), string.Concat(Enumerable.Repeat("abc abc\n", 300)));
        Assert.Equal(0, CliRunner.Run("prepare", "--input", dir.File("input.txt"), "--out", dir.File("data"), "--tokenizer", "char").Code);
        File.WriteAllLines(dir.File("val.jsonl"), [HellaSwagTestModels.Line("abc", ["a", "b", "xyz", "c"], 0)]);
        var train = CliRunner.Run("train", "--data", dir.File("data"), "--out", dir.File("out"), "--layers", "1", "--heads", "1", "--embd", "8", "--seq-len", "8",
            "--micro-batch", "1", "--max-steps", "2", "--hellaswag", dir.File("val.jsonl"), "--threads", "1");
        Assert.NotEqual(0, train.Code);
        Assert.Contains("val.jsonl:1: cannot tokenize it", train.Out + train.Err);
        Assert.DoesNotContain("step     1/2", train.Out);
    }
}
