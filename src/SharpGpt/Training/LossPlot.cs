using ScottPlot;

namespace SharpGpt.Training;

/// <summary>Draws the loss curves of a run (training loss per step, validation loss where measured) as a PNG.</summary>
public static class LossPlot
{
    public static void Save(IReadOnlyList<MetricsRecord> records, string pngPath, string title = "SharpGPT training")
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
