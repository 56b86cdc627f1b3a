using System.CommandLine;
using SharpGpt.Plots;

namespace SharpGpt.Cli.Commands;

/// <summary><c>sharpgpt plot</c>: draws a run's loss curves from its metrics.jsonl.</summary>
internal static class PlotCommand
{
    public static Command Create()
    {
        var metrics = new Option<FileInfo>("--metrics") { Description = "metrics.jsonl of a run", DefaultValueFactory = _ => new FileInfo(Path.Combine("out", "metrics.jsonl")) };
        var output = new Option<FileInfo?>("--out") { Description = "PNG to write (default: loss.png beside the metrics)" };
        var command = new Command("plot", "Draw the loss curves of a training run as a PNG.") { metrics, output };
        command.SetAction(r =>
        {
            var file = r.GetValue(metrics)!;
            if (!file.Exists)
            {
                throw new SharpGptException(file.FullName, "metrics file not found", "pass --metrics OUT/metrics.jsonl of a training run.");
            }

            string png = r.GetValue(output)?.FullName ?? Path.Combine(file.DirectoryName!, "loss.png");
            int steps = LossPlot.Save(file.FullName, png);
            Console.WriteLine($"wrote {png} ({steps} steps)");
            return 0;
        });
        return command;
    }
}
