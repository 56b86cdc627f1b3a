using System.Globalization;
using SharpGpt.Training;
using Spectre.Console;

namespace SharpGpt.Cli.Commands;

/// <summary>Prints one line per step (loss, lr, grad norm, time, tokens/s, MFU, ETA) and moves a progress bar when the terminal has one.</summary>
internal sealed class ConsoleTrainingObserver : ITrainingObserver
{
    private readonly double _peakFlops;
    private readonly ProgressLines _evaluationProgress;
    private TrainingStartInfo? _info;
    private double _elapsedMs;
    private int _timedSteps;

    public ConsoleTrainingObserver(double peakFlops)
    {
        _peakFlops = peakFlops;
        _evaluationProgress = new ProgressLines(line => Write(line, "grey"));
    }

    /// <summary>Set while a Spectre progress display is live.</summary>
    public ProgressTask? Progress { get; set; }

    public void OnStart(TrainingStartInfo info)
    {
        _info = info;
        var p = info.Plan;
        Write(Invariant($"model: {info.Parameters / 1e6:F2}M parameters; batch: {p.MicroBatch} x {p.SeqLen} tokens x {p.WorldSize} rank(s) x {p.AccumulationSteps} accumulation step(s) = {p.TotalBatchTokens} tokens/step"), "bold");
        if (info.ResumedFrom is not null)
        {
            Write($"resuming from {info.ResumedFrom} at step {info.FirstStep}", "yellow");
        }

        if (Progress is not null)
        {
            Progress.MaxValue = info.MaxSteps;
            Progress.Value = info.FirstStep;
        }
    }

    public void OnStep(int step, StepResult result, double milliseconds)
    {
        var info = _info!;
        _elapsedMs += milliseconds;
        _timedSteps++;
        double tokensPerSecond = info.Plan.TotalBatchTokens / (milliseconds / 1000);
        // No peak is known for an emulated device: no MFU then.
        string mfu = _peakFlops > 0 ? Invariant($" | MFU {info.FlopsPerStep / (milliseconds / 1000) / _peakFlops * 100,4:F1}%") : "";
        var eta = TimeSpan.FromMilliseconds(_elapsedMs / _timedSteps * (info.MaxSteps - step));
        Write(Invariant($"step {step,5}/{info.MaxSteps} | loss {result.Loss:F4} | lr {result.LearningRate:E2} | norm {result.GradNorm:F4} | {milliseconds,7:F1} ms | {tokensPerSecond,8:F0} tok/s{mfu} | ETA {eta:hh\\:mm\\:ss}"), null);
        if (Progress is not null)
        {
            Progress.Value = step;
        }
    }

    public void OnValidation(int step, float valLoss, bool wholeSplit) =>
        Write(Invariant($"step {step}: val loss {valLoss:F4}{(wholeSplit ? " (whole split)" : "")}"), "green");

    public void OnEvaluationProgress(int step, string evaluation, long done, long total, double seconds) =>
        _evaluationProgress.Report($"step {step}: {evaluation}", evaluation == "validation" ? "batches" : "examples", done, total, seconds);

    public void OnSample(int step, string text)
    {
        Write($"sample at step {step}:", "grey");
        Write(text, null);
    }

    public void OnHellaSwag(int step, double accuracyNorm, double accuracy, int count) =>
        Write(Invariant($"step {step}: HellaSwag acc_norm {accuracyNorm:F4}, acc {accuracy:F4} over {count} examples"), "green");

    public void OnCheckpoint(int step, string path) => Write($"checkpoint: {path}", "grey");

    public void OnMessage(string message) => Write(message, "yellow");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    // A log line stays one plain line when output is redirected (Spectre would wrap it at 80
    // columns); on a terminal it goes through Spectre so it lands above the live progress bar.
    private void Write(string line, string? style)
    {
        if (Progress is null)
        {
            Console.WriteLine(line);
        }
        else if (style is null)
        {
            AnsiConsole.WriteLine(line);
        }
        else
        {
            AnsiConsole.MarkupLine($"[{style}]{Markup.Escape(line)}[/]");
        }
    }
}
