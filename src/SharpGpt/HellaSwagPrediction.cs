using System.Text.Json.Serialization;

namespace SharpGpt;

/// <summary>How the model scored one HellaSwag example: per ending, the summed and mean cross-entropy of its tokens.</summary>
/// <param name="Index">The example's position in the file.</param>
/// <param name="Label">The right ending.</param>
/// <param name="Predicted">The ending with the lowest summed loss (acc's prediction).</param>
/// <param name="PredictedNorm">The ending with the lowest mean loss per token (acc_norm's prediction).</param>
/// <param name="LossSums">Each ending's summed loss.</param>
/// <param name="LossMeans">Each ending's mean loss per token.</param>
/// <param name="TokenCounts">Each ending's tokens.</param>
public sealed record HellaSwagPrediction(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("label")] int Label,
    [property: JsonPropertyName("pred")] int Predicted,
    [property: JsonPropertyName("pred_norm")] int PredictedNorm,
    [property: JsonPropertyName("sum_loss")] IReadOnlyList<double> LossSums,
    [property: JsonPropertyName("avg_loss")] IReadOnlyList<double> LossMeans,
    [property: JsonPropertyName("tokens")] IReadOnlyList<int> TokenCounts)
{
    /// <summary>Whether acc's prediction is right.</summary>
    [JsonPropertyName("correct")]
    public bool Correct => Predicted == Label;

    /// <summary>Whether acc_norm's prediction is right.</summary>
    [JsonPropertyName("correct_norm")]
    public bool CorrectNorm => PredictedNorm == Label;
}
