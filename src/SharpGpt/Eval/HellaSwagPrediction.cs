using System.Text.Json.Serialization;

namespace SharpGpt.Eval;

/// <summary>How the model scored one example: per ending, the summed and mean cross-entropy of its
/// tokens; <c>pred</c> is the lowest sum (acc), <c>pred_norm</c> the lowest mean (acc_norm).</summary>
public sealed record HellaSwagPrediction(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("label")] int Label,
    [property: JsonPropertyName("pred")] int Predicted,
    [property: JsonPropertyName("pred_norm")] int PredictedNorm,
    [property: JsonPropertyName("sum_loss")] double[] LossSums,
    [property: JsonPropertyName("avg_loss")] double[] LossMeans,
    [property: JsonPropertyName("tokens")] int[] TokenCounts)
{
    [JsonPropertyName("correct")]
    public bool Correct => Predicted == Label;

    [JsonPropertyName("correct_norm")]
    public bool CorrectNorm => PredictedNorm == Label;
}
