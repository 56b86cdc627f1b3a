using System.Text.Json;
using SharpGpt.Formats;

namespace SharpGpt;

/// <summary>The scores of a HellaSwag run: acc (the lowest summed loss picks the ending) and acc_norm (the lowest mean
/// loss per token), with every example's prediction.</summary>
/// <param name="Predictions">Each example's scores, in the file's order.</param>
public sealed record HellaSwagResult(IReadOnlyList<HellaSwagPrediction> Predictions)
{
    /// <summary>The examples scored.</summary>
    public int Count => Predictions.Count;

    /// <summary>The examples whose right ending has the lowest summed loss.</summary>
    public int Correct => Predictions.Count(p => p.Correct);

    /// <summary>The examples whose right ending has the lowest mean loss per token.</summary>
    public int CorrectNorm => Predictions.Count(p => p.CorrectNorm);

    /// <summary>acc: <see cref="Correct"/> / <see cref="Count"/>.</summary>
    public double Accuracy => Count == 0 ? double.NaN : (double)Correct / Count;

    /// <summary>acc_norm, the figure HellaSwag is quoted by: <see cref="CorrectNorm"/> / <see cref="Count"/>.</summary>
    public double AccuracyNorm => Count == 0 ? double.NaN : (double)CorrectNorm / Count;

    /// <summary>Writes one JSON object per example (index, label, pred, pred_norm, sum_loss, avg_loss, tokens), atomically.</summary>
    /// <param name="path">The file to write.</param>
    public void WritePredictions(string path) => AtomicFile.Write(path, stream =>
    {
        using var writer = new StreamWriter(stream, leaveOpen: true);
        foreach (var p in Predictions)
        {
            writer.Write(JsonSerializer.Serialize(p));
            writer.Write('\n');
        }
    });
}
