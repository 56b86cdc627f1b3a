using System.Text.Json;
using SharpGpt.Formats;

namespace SharpGpt.Eval;

/// <summary>The scores of a HellaSwag run: acc (lowest summed loss) and acc_norm (lowest mean loss per token).</summary>
public sealed record HellaSwagResult(IReadOnlyList<HellaSwagPrediction> Predictions)
{
    public int Count => Predictions.Count;

    public int Correct => Predictions.Count(p => p.Correct);

    public int CorrectNorm => Predictions.Count(p => p.CorrectNorm);

    public double Accuracy => Count == 0 ? double.NaN : (double)Correct / Count;

    public double AccuracyNorm => Count == 0 ? double.NaN : (double)CorrectNorm / Count;

    /// <summary>Writes one JSON object per example (atomically).</summary>
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
