using ScottPlot;
using SharpGpt.Training;

namespace SharpGpt.Plots;

/// <summary>Draws the loss curves of a training run (training loss per step, validation loss where it was
/// measured) as a PNG image.</summary>
public static class LossPlot
{
    /// <summary>Draws the curves of the run whose metrics file is <paramref name="metricsPath"/> (the
    /// <c>metrics.jsonl</c> that training writes when asked to) into <paramref name="pngPath"/>, replacing it.</summary>
    /// <param name="metricsPath">A run's metrics.jsonl.</param>
    /// <param name="pngPath">The image to write; its folder is created when missing.</param>
    /// <param name="title">The plot's title.</param>
    /// <returns>The number of steps drawn.</returns>
    /// <exception cref="SharpGptException">The metrics file is missing or is not a metrics file.</exception>
    public static int Save(string metricsPath, string pngPath, string title = "SharpGPT training")
    {
        ArgumentException.ThrowIfNullOrEmpty(metricsPath);
        ArgumentException.ThrowIfNullOrEmpty(pngPath);
        if (!File.Exists(metricsPath))
        {
            throw new SharpGptException(metricsPath, "metrics file not found", "pass the metrics.jsonl of a training run.");
        }

        var records = MetricsLog.Read(metricsPath);
        Save(records, pngPath, title);
        return records.Count;
    }

    internal static void Save(IReadOnlyList<MetricsRecord> records, string pngPath, string title = "SharpGPT training")
    {
        var plot = new Plot();
        if (records.Count > 0)
        {
            double[] steps = [.. records.Select(r => (double)r.Step)];
            double[] losses = [.. records.Select(r => (double)r.Loss)];
            var train = plot.Add.ScatterLine(steps, losses);
            train.LegendText = "train loss";
            train.LineWidth = 1;
            train.MarkerSize = 0;

            var val = records.Where(r => r.ValLoss is not null).ToList();
            if (val.Count > 0)
            {
                var v = plot.Add.ScatterLine(val.Select(r => (double)r.Step).ToArray(), val.Select(r => (double)r.ValLoss!.Value).ToArray());
                v.LegendText = "val loss";
                v.LineWidth = 2;
                v.MarkerSize = 5;
            }
        }

        plot.Title(title);
        plot.XLabel("step");
        plot.YLabel("loss");
        plot.ShowLegend(Alignment.UpperRight);
        string full = Path.GetFullPath(pngPath);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = full + ".tmp.png";
        plot.SavePng(temp, 900, 500);
        File.Move(temp, full, overwrite: true);
    }
}
