using System.Globalization;
using Spectre.Console;

namespace SharpGpt.Cli.Commands;

/// <summary>Prints a training run's events: one line per step (loss, lr, grad norm, time, tokens/s, MFU, ETA),
/// evaluations, samples and checkpoints, and moves a progress bar when the terminal has one.</summary>
/// <param name="onPlanned">Prints the resolved plan (the settings and where they came from) when the run reports it.</param>
internal sealed class ConsoleTrainingProgress(Action<TrainingPlanned> onPlanned) : IProgress<TrainingEvent>
{
    private readonly ProgressLines _evaluationProgress = new(line => Console.WriteLine(line));
    private TrainingPlanned? _plan;

    /// <summary>Set while a Spectre progress display is live.</summary>
    public ProgressTask? Progress { get; set; }

    public void Report(TrainingEvent value)
    {
        switch (value)
        {
            case TrainingPlanned plan:
                _plan = plan;
                foreach (var note in plan.Notes)
                {
                    Write(note, null);
                }

                onPlanned(plan);
                break;
            case TrainingStarted start:
                var p = _plan!;
                Write(Invariant($"model: {start.ParameterCount / 1e6:F2}M parameters; batch: {p.MicroBatchPerRank} x {p.Options.SequenceLength} tokens x {p.Ranks} rank(s) x {p.AccumulationSteps} accumulation step(s) = {p.TokensPerStep} tokens/step"), "bold");
                if (start.ResumedFrom is not null)
                {
                    Write($"resuming from {start.ResumedFrom} at step {start.Step}", "yellow");
                }

                if (Progress is not null)
                {
                    Progress.MaxValue = start.MaxSteps;
                    Progress.Value = start.Step;
                }

                break;
            case TrainingStepCompleted s:
                // No peak is known for a GPU: no MFU then.
                string mfu = s.Mfu is double m ? Invariant($" | MFU {m * 100,4:F1}%") : "";
                Write(Invariant($"step {s.Step,5}/{s.MaxSteps} | loss {s.Loss:F4} | lr {s.LearningRate:E2} | norm {s.GradientNorm:F4} | {s.Duration.TotalMilliseconds,7:F1} ms | {s.TokensPerSecond,8:F0} tok/s{mfu} | ETA {s.Remaining:hh\\:mm\\:ss}"), null);
                if (Progress is not null)
                {
                    Progress.Value = s.Step;
                }

                break;
            case ValidationCompleted v:
                Write(Invariant($"step {v.Step}: val loss {v.Loss:F4}{(v.WholeSplit ? " (whole split)" : "")}"), "green");
                break;
            case HellaSwagCompleted h:
                Write(Invariant($"step {h.Step}: HellaSwag acc_norm {h.AccuracyNorm:F4}, acc {h.Accuracy:F4} over {h.Count} examples"), "green");
                break;
            case SampleGenerated sample:
                Write($"sample at step {sample.Step}:", "grey");
                Write(sample.Text, null);
                break;
            case CheckpointSaved checkpoint:
                Write($"checkpoint: {checkpoint.Path}", "grey");
                break;
            case EvaluationAdvanced e:
                _evaluationProgress.Report($"step {e.Step}: {e.Evaluation}", e.Evaluation == "validation" ? "batches" : "examples", e.Progress.Done, e.Progress.Total, e.Elapsed.TotalSeconds);
                break;
            case TrainingMessage message:
                Write(message.Message, "yellow");
                break;
        }
    }

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
