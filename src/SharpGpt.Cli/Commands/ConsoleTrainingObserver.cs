using System.Globalization;
using SharpGpt.Training;
using Spectre.Console;

namespace SharpGpt.Cli.Commands;

/// <summary>Prints one line per step (loss, lr, grad norm, time, tokens/s, MFU, ETA) and moves a progress bar when the terminal has one.</summary>
internal sealed class ConsoleTrainingObserver(double peakFlops) : ITrainingObserver
{
    private TrainingStartInfo? _info;
    private double _elapsedMs;
    private int _timedSteps;

    /// <summary>Set while a Spectre progress display is live.</summary>
    public ProgressTask? Progress { get; set; }

    public void OnStart(TrainingStartInfo info)
    {
        _info = info;
        var p = info.Plan;
        AnsiConsole.MarkupLineInterpolated($"[bold]model[/]: {info.Parameters / 1e6:F2}M parameters; [bold]batch[/]: {p.MicroBatch} x {p.SeqLen} tokens x {p.WorldSize} rank(s) x {p.AccumulationSteps} accumulation step(s) = {p.TotalBatchTokens:N0} tokens/step");
        if (info.ResumedFrom is not null)
        {
            AnsiConsole.MarkupLineInterpolated($"resuming from {info.ResumedFrom} at step {info.FirstStep}");
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
        double mfu = info.FlopsPerStep / (milliseconds / 1000) / peakFlops;
        var eta = TimeSpan.FromMilliseconds(_elapsedMs / _timedSteps * (info.MaxSteps - step));
        Write(string.Create(CultureInfo.InvariantCulture,
            $"step {step,5}/{info.MaxSteps} | loss {result.Loss:F4} | lr {result.LearningRate:E2} | norm {result.GradNorm:F4} | {milliseconds,7:F1} ms | {tokensPerSecond,8:F0} tok/s | MFU {mfu * 100,4:F1}% | ETA {eta:hh\\:mm\\:ss}"));
        if (Progress is not null)
        {
            Progress.Value = step;
        }
    }

    // Spectre wraps at 80 columns when output is redirected; a log line should stay one line.
    private void Write(string line)
    {
        if (Progress is null)
        {
            Console.WriteLine(line);
        }
        else
        {
            AnsiConsole.WriteLine(line);
        }
    }

    public void OnValidation(int step, float valLoss, bool wholeSplit) =>
        AnsiConsole.MarkupLineInterpolated($"[green]step {step}: val loss {valLoss:F4}[/]{(wholeSplit ? " (whole split)" : "")}");

    public void OnSample(int step, string text)
    {
        AnsiConsole.MarkupLineInterpolated($"[grey]sample at step {step}:[/]");
        AnsiConsole.WriteLine(text);
    }

    public void OnCheckpoint(int step, string path) => AnsiConsole.MarkupLineInterpolated($"[grey]checkpoint: {path}[/]");

    public void OnMessage(string message) => AnsiConsole.MarkupLineInterpolated($"[yellow]{message}[/]");
}
