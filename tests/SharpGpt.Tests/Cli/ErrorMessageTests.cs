using System.Runtime.InteropServices;
using SharpGpt.Data;
using SharpGpt.Tests.Data;
using SharpGpt.Tests.Eval;
using SharpGpt.Training;

namespace SharpGpt.Tests.Cli;

/// <summary>
/// Every command, every file argument and the usual bad option values, run through the executable's own
/// entry point: a user error is one line, <c>sharpgpt COMMAND: SUBJECT: PROBLEM</c>, exit code 1, and no
/// stack trace; a usage error of the parser exits 2.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class ErrorMessageTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public ErrorMessageTests()
    {
        DataPreparer.PrepareText(string.Concat(Enumerable.Repeat("To be, or not to be, that is the question.\n", 200)), Data, new PrepareOptions { Tokenizer = TokenizerKind.Character });
        Directory.CreateDirectory(Empty);
        var random = new byte[4096];
        new Random(3).NextBytes(random);
        File.WriteAllBytes(Random("sgpt"), random);
        File.WriteAllBytes(Random("bin"), random);
        File.WriteAllBytes(Random("safetensors"), random);
        File.WriteAllBytes(Random("pt"), random);
        File.WriteAllText(Random("jsonl"), "{\"ctx\": \"a\", \"endings\": [\"b\"");
        File.WriteAllText(_dir.File("empty.txt"), "");
        File.WriteAllText(_dir.File("input.csv"), "a,b\n");
        File.WriteAllText(_dir.File("a-file"), "not a folder");
        byte[] tiny = File.ReadAllBytes(Fixture("tiny_model.bin"));
        File.WriteAllBytes(_dir.File("truncated.bin"), tiny[..2000]);
        byte[] absurd = (byte[])tiny.Clone();
        BitConverter.GetBytes(1 << 30).CopyTo(absurd, 6 * 4); // n_embd
        File.WriteAllBytes(_dir.File("absurd.bin"), absurd);
        File.WriteAllLines(_dir.File("hellaswag.jsonl"), [HellaSwagTestModels.Line("a", ["b", "c", "d", "e"], 0)]);
    }

    private string Data => _dir.File("data");

    private string Empty => _dir.File("empty");

    private string Missing => _dir.File("missing");

    private string Random(string extension) => _dir.File("random." + extension);

    private static string Fixture(string name) => ReferenceFixtureTests.FixturePath(name);

    public void Dispose() => _dir.Dispose();

    /// <summary>A small training run, with <paramref name="changes"/> (option, value pairs) replacing or adding options.</summary>
    private string[] TrainSmall(params string[] changes)
    {
        var options = new List<(string Name, string Value)>
        {
            ("--data", Data), ("--out", _dir.File("out")), ("--layers", "1"), ("--heads", "2"), ("--embd", "16"), ("--seq-len", "16"),
            ("--micro-batch", "2"), ("--max-steps", "2"), ("--val-every", "0"), ("--threads", "1"),
        };
        for (int i = 0; i < changes.Length; i += 2)
        {
            int at = options.FindIndex(o => o.Name == changes[i]);
            if (at >= 0)
            {
                options[at] = (changes[i], changes[i + 1]);
            }
            else
            {
                options.Add((changes[i], changes[i + 1]));
            }
        }

        return ["train", .. options.SelectMany(o => new[] { o.Name, o.Value })];
    }

    /// <summary>Each row: the arguments, then the subject the message must lead with (after "sharpgpt COMMAND: "), then a phrase of the problem.</summary>
    private IEnumerable<(string[] Args, string Subject, string Problem)> BadInvocations() =>
    [
        (["train", "--data", Missing], Missing, "data folder not found"),
        (["train", "--data", Empty], Empty, "not a prepared data folder"),
        (["train", "--data", _dir.File("a-file")], _dir.File("a-file"), "a file, not a prepared data folder"),
        (["train", "--data", Data, "--init-from", Missing], Missing, "model file not found"),
        (["train", "--data", Data, "--init-from", Random("sgpt")], Random("sgpt"), "not a SharpGPT checkpoint"),
        (TrainSmall("--init-from", Fixture("tiny_model.bin")), "--init-from", "drop --preset/--layers/--heads/--embd"),
        (TrainSmall("--hellaswag", Missing), Missing, "HellaSwag file not found"),
        (TrainSmall("--seq-len", "32", "--block-size", "16"), "--seq-len", "32 exceeds the model's block size 16"),
        (TrainSmall("--micro-batch", "zero"), "--micro-batch", "must be a positive number or 'auto'"),
        (TrainSmall("--micro-batch", "3", "--total-batch-tokens", "100"), "--total-batch-tokens", "is not a multiple of"),
        (TrainSmall("--micro-batch", "auto", "--memory-budget", "lots"), "--memory-budget", "cannot read 'lots'"),
        (TrainSmall("--micro-batch", "auto", "--memory-budget", "1KiB"), "--memory-budget", "even micro-batch 1 needs"),
        (TrainSmall("--zero", "2"), "--zero", "The ZeRO stage must be 0 or 1"),
        (TrainSmall("--parallel", "batch", "--threads", "2", "--micro-batch", "3"), "--parallel", "3 sequences do not split 2 ways"),
        (TrainSmall("--out", _dir.File("a-file")), _dir.File("a-file"), "a file, not a folder; pass a folder to --out"),
        (["train", "--data", Data, "--preset", "gpt9"], "--preset", "unknown preset 'gpt9'"),
        (["train", "--data", Data, "--embd", "10", "--heads", "3"], "model options", "n_embd (10) is not divisible by n_head (3)"),
        (["prepare", "--input", Missing, "--out", _dir.File("p1")], Missing, "input file not found"),
        (["prepare", "--input", _dir.File("empty.txt"), "--out", _dir.File("p2")], _dir.File("empty.txt"), "input file is empty"),
        (["prepare", "--input", _dir.File("input.csv"), "--out", _dir.File("p3")], _dir.File("input.csv"), "unsupported input type '.csv'"),
        (["prepare", "--input", Random("jsonl"), "--out", _dir.File("p4")], Random("jsonl") + ":1", "not valid JSON"),
        (["prepare", "--input", _dir.File("input.csv"), "--out", _dir.File("p5"), "--val-fraction", "2"], "--val-fraction", "must be in [0, 1)"),
        (["eval", "--checkpoint", Missing, "--data", Data], Missing, "model file not found"),
        (["eval", "--checkpoint", Random("sgpt"), "--data", Data], Random("sgpt"), "not a SharpGPT checkpoint"),
        (["eval", "--checkpoint", Random("pt"), "--data", Data], Random("pt"), "not a model file"),
        (["eval", "--checkpoint", _dir.File("absurd.bin"), "--data", Data], _dir.File("absurd.bin"), "n_embd is 1073741824, out of range"),
        (["eval", "--checkpoint", Fixture("tiny_model.bin"), "--data", Missing], Missing, "data folder not found"),
        (["eval", "--checkpoint", Fixture("tiny_model.bin"), "--data", Empty], Empty, "not a prepared data folder"),
        (["sample", "--checkpoint", Missing], Missing, "model file not found"),
        (["sample", "--checkpoint", _dir.File("truncated.bin")], _dir.File("truncated.bin"), "truncated"),
        (["sample", "--checkpoint", Random("safetensors")], Random("safetensors"), "safetensors"),
        (["sample", "--checkpoint", Fixture("tiny_model.bin"), "--tokenizer-dir", Missing], Missing, "data folder not found"),
        (["sample", "--checkpoint", Fixture("tiny_model.bin"), "--prompt-tokens", "1,x"], "--prompt-tokens", "'x' is not a token id"),
        (["sample", "--checkpoint", Fixture("tiny_model.bin"), "--prompt-tokens", "1", "--temperature", "-1"], "--temperature", "must be a finite number >= 0"),
        (["sample", "--checkpoint", Fixture("tiny_model.bin"), "--prompt-tokens", "1", "--tokens", "-1"], "--tokens", "must be >= 0"),
        (["import", "--from", Missing, "--out", _dir.File("i.bin")], Missing, "not found"),
        (["import", "--from", Random("safetensors"), "--out", _dir.File("i.bin")], Random("safetensors"), "safetensors"),
        (["import", "--from", Path.Combine(Fixture("tiny_hf"), "model.safetensors"), "--out", Path.Combine(_dir.File("a-file"), "i.bin")], Path.Combine(_dir.File("a-file"), "i.bin"), "cannot write it"),
        (["export", "--checkpoint", Missing, "--to", _dir.File("e")], Missing, "model file not found"),
        (["export", "--checkpoint", Fixture("tiny_model.bin"), "--to", _dir.File("a-file")], _dir.File("a-file"), "a file, not a folder; pass a folder to --to"),
        (["hellaswag", "--checkpoint", Missing, "--data", _dir.File("hellaswag.jsonl")], Missing, "model file not found"),
        (["hellaswag", "--checkpoint", Fixture("tiny_model.bin"), "--data", Missing, "--tokenizer-dir", Data], Missing, "HellaSwag file not found"),
        (["hellaswag", "--checkpoint", Fixture("tiny_model.bin"), "--data", Random("jsonl"), "--tokenizer-dir", Data], Random("jsonl") + ":1", "not valid JSON"),
        (["hellaswag", "--checkpoint", Fixture("tiny_model.bin"), "--data", _dir.File("hellaswag.jsonl"), "--limit", "-1"], "--limit", "must be >= 0"),
        (["verify", "--model", Missing, "--state", Fixture("tiny_state.bin")], Missing, "model file not found"),
        (["verify", "--model", Fixture("tiny_model.bin"), "--state", Missing], Missing, "debug state not found"),
        (["verify", "--model", Fixture("tiny_model.bin"), "--state", Random("bin")], Random("bin"), "not a llm.c debug state"),
        (["verify", "--model", Fixture("tiny_model.bin"), "--state", Fixture("tiny_state.bin"), "--steps", "1", "--expected-losses", Missing], Missing, "expected-losses file not found"),
        (["bench", "--preset", "gpt9"], "--preset", "unknown preset 'gpt9'"),
        (["bench", "--layers", "1", "--embd", "10", "--heads", "3", "--steps", "1", "--warmup", "0"], "model options", "n_embd (10) is not divisible by n_head (3)"),
        (["bench", "--layers", "1", "--heads", "2", "--embd", "16", "--vocab", "65", "--block-size", "16", "--batch", "3", "--seq", "16", "--threads", "2", "--parallel", "batch"], "--parallel", "3 sequences do not split 2 ways"),
        (["bench", "--layers", "1", "--heads", "2", "--embd", "16", "--vocab", "65", "--block-size", "16", "--seq", "32"], "--seq", "32 exceeds the model's block size 16"),
        (["bench-allreduce"], "ranks", "needs at least 2"),
        (["bench", "--device", "cuda-emulated", "--steps", "1", "--warmup", "0"], "--device", "the cuda-emulated device runs models of at most 20M parameters and this one has 124.4M"),
        (["plot", "--metrics", Missing], Missing, "metrics file not found"),
        (["plot", "--metrics", Random("jsonl")], Random("jsonl") + ":1", "not a metrics record"),
    ];

    [Fact]
    public void EveryUserErrorIsOneLineNamingTheFileOrOptionWithoutAStackTrace()
    {
        var failures = new List<string>();
        foreach (var (args, subject, problem) in BadInvocations())
        {
            var run = CliRunner.Run(args);
            string first = run.Err.Split('\n')[0].TrimEnd('\r');
            string expected = $"sharpgpt {args[0]}: {subject}: ";
            if (run.Code != 1 || !first.StartsWith(expected, StringComparison.Ordinal) || !first.Contains(problem, StringComparison.Ordinal)
                || run.Err.Contains("   at ", StringComparison.Ordinal) || run.Err.Trim().Contains('\n', StringComparison.Ordinal))
            {
                failures.Add($"sharpgpt {string.Join(' ', args)}\n  exit {run.Code}, expected 1; stderr:\n{run.Err}  expected a line starting '{expected}' with '{problem}'");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void VerboseAndSharpGptDebugAddTheStackTrace()
    {
        var plain = CliRunner.Run("eval", "--checkpoint", Missing, "--data", Data);
        var verbose = CliRunner.Run("eval", "--checkpoint", Missing, "--data", Data, "--verbose");
        Assert.Equal(1, verbose.Code);
        Assert.Equal(plain.Err.Split('\n')[0], verbose.Err.Split('\n')[0]);
        Assert.Contains("   at SharpGpt.", verbose.Err);

        Environment.SetEnvironmentVariable("SHARPGPT_DEBUG", "1");
        try
        {
            Assert.Contains("   at SharpGpt.", CliRunner.Run("eval", "--checkpoint", Missing, "--data", Data).Err);
        }
        finally
        {
            Environment.SetEnvironmentVariable("SHARPGPT_DEBUG", null);
        }
    }

    [Fact]
    public void UsageErrorsOfTheParserExitWith2()
    {
        foreach (string[] args in (string[][])[["train", "--no-such-option"], ["sample"], ["train", "--max-steps", "many"], ["prepare", "--input", "x", "--out", "y", "--tokenizer", "bert"]])
        {
            var run = CliRunner.Run(args);
            Assert.True(run.Code == 2, $"sharpgpt {string.Join(' ', args)}: exit {run.Code}\n{run.Err}");
            Assert.DoesNotContain("   at ", run.Out + run.Err);
        }
    }

    [Fact]
    public void AFullDiskAtACheckpointStopsTheRunWithOneLineNamingTheLastGoodCheckpoint()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
        {
            return; // the failure is injected through Linux's /dev/full
        }

        string outDir = _dir.File("full");
        Directory.CreateDirectory(outDir);
        File.CreateSymbolicLink(TrainingCheckpoint.PathFor(outDir, 2) + ".tmp-" + Environment.ProcessId, "/dev/full");
        var run = CliRunner.Run([.. TrainSmall("--out", outDir, "--max-steps", "3", "--checkpoint-every", "1")]);

        string good = TrainingCheckpoint.PathFor(outDir, 1);
        Assert.Equal(1, run.Code);
        Assert.Equal($"sharpgpt train: {TrainingCheckpoint.PathFor(outDir, 2)}: the checkpoint of step 2 could not be written: cannot write it: no space left on device; "
            + $"the last good checkpoint is {good}; free space and continue from it with --resume", run.Err.Trim(), ignoreCase: true);
        Assert.Equal([good], Directory.GetFiles(outDir, "ckpt_*"));
    }
}
