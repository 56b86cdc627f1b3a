using System.Diagnostics;
using SharpGpt.Data;
using SharpGpt.Kernels;
using SharpGpt.Tests.Data;
using SharpGpt.Tests.Distributed;
using SharpGpt.Tests.Kernels;
using SharpGpt.Training;

namespace SharpGpt.Tests.Cli;

/// <summary>Ctrl-C sent to a real sharpgpt process: it finishes the step, writes a checkpoint, prints how to
/// resume and exits 130; the printed command continues bit for bit as if nothing had happened.</summary>
public sealed class InterruptTests : IDisposable
{
    private const int Steps = 400;
    private readonly TempDirectory _dir = new();

    public InterruptTests()
    {
        string text = string.Concat(Enumerable.Range(0, 600).Select(i => $"line {i}: the quick brown fox jumps over the lazy dog {(char)('a' + (i % 26))}.\n"));
        DataPreparer.PrepareText(text, _dir.File("data"), new PrepareOptions { Tokenizer = TokenizerKind.Character });
    }

    public void Dispose() => _dir.Dispose();

    private string[] Train(string outDir, int checkpointEvery = 1000) =>
        ["train", "--data", _dir.File("data"), "--out", outDir, "--layers", "2", "--heads", "2", "--embd", "64", "--seq-len", "64", "--micro-batch", "4",
            "--max-steps", $"{Steps}", "--val-every", "100", "--val-steps", "2", "--checkpoint-every", $"{checkpointEvery}", "--threads", "1"];

    [Fact]
    public void CtrlCStopsAfterTheStepWithACheckpointAndThePrintedCommandResumesBitExactly()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // signals are sent with kill
        }

        string straightOut = _dir.File("straight"), splitOut = _dir.File("split");
        MpiJob.RunSingle(Train(straightOut)).Succeeded();

        var (code, output) = RunAndSignal(Train(splitOut), afterLine: "step    20/", signals: 1);
        Assert.True(code == 130, $"exit {code}\n{output}");
        Assert.Contains("sharpgpt train: SIGINT: stopping after the step in progress, with a checkpoint", output);
        string stopped = output.Split('\n').Single(l => l.StartsWith("stopped after ", StringComparison.Ordinal));
        string checkpoint = stopped[(stopped.IndexOf("checkpoint: ", StringComparison.Ordinal) + "checkpoint: ".Length)..].Trim();
        int step = TrainingCheckpoint.ReadMetadata(checkpoint).Step;
        Assert.InRange(step, 20, Steps - 1);
        Assert.Empty(Directory.GetFiles(splitOut, "*.tmp-*"));

        // The command it prints, run as printed.
        string resume = output.Split('\n').Single(l => l.StartsWith("resume with: ", StringComparison.Ordinal))["resume with: ".Length..].Trim();
        Assert.Equal("sharpgpt " + string.Join(' ', Train(splitOut)) + " --resume", resume);
        MpiJob.RunSingle(resume.Split(' ')[1..]).Succeeded();

        var expected = MetricsLog.Read(Path.Combine(straightOut, "metrics.jsonl"));
        var actual = MetricsLog.Read(Path.Combine(splitOut, "metrics.jsonl"));
        Assert.Equal(Enumerable.Range(1, Steps), actual.Select(m => m.Step));
        Assert.Equal(expected.Select(m => (m.Loss, m.ValLoss)), actual.Select(m => (m.Loss, m.ValLoss)));
        using var runner = new ParallelRunner(1);
        using var a = TrainingCheckpoint.LoadModel(TrainingCheckpoint.PathFor(straightOut, Steps), new CpuKernels(runner)).Model;
        using var b = TrainingCheckpoint.LoadModel(TrainingCheckpoint.PathFor(splitOut, Steps), new CpuKernels(runner)).Model;
        Assert.True(a.Parameters.Span.SequenceEqual(b.Parameters.Span), "the weights differ from the uninterrupted run's");
    }

    [Fact]
    public void ASecondCtrlCStopsAtOnceAndLeavesNoTemporaryFile()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        string outDir = _dir.File("twice");
        var (code, output) = RunAndSignal(Train(outDir, checkpointEvery: 1), afterLine: "step     5/", signals: 2);
        Assert.True(code == 130, $"exit {code}\n{output}");
        Assert.Empty(Directory.GetFiles(outDir, "*.tmp-*"));
        using var runner = new ParallelRunner(1);
        foreach (string checkpoint in Directory.GetFiles(outDir, "ckpt_*"))
        {
            TrainingCheckpoint.LoadModel(checkpoint, new CpuKernels(runner)).Model.Dispose();
        }
    }

    /// <summary>Runs sharpgpt and sends it SIGINT <paramref name="signals"/> times once it printed a line starting with <paramref name="afterLine"/>.</summary>
    private static (int Code, string Output) RunAndSignal(string[] args, string afterLine, int signals)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "sharpgpt.dll"));
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var output = new System.Text.StringBuilder();
        bool sent = false;
        while (process.StandardOutput.ReadLine() is { } line)
        {
            output.AppendLine(line);
            if (!sent && line.StartsWith(afterLine, StringComparison.Ordinal))
            {
                for (int i = 0; i < signals; i++)
                {
                    using var kill = Process.Start("kill", ["-INT", $"{process.Id}"]);
                    kill.WaitForExit();
                }

                sent = true;
            }
        }

        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
        }

        return (process.ExitCode, output + stderr.Result);
    }
}
