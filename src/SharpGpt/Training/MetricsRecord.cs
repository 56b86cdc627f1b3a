using System.Text.Json.Serialization;

namespace SharpGpt.Training;

/// <summary>One line of metrics.jsonl. <c>tokens</c> counts every token the run has read up to this step, padding
/// included; <c>trained_tokens</c> the targets this step trained on (every token for plain text, the answers of
/// fine-tuning data).</summary>
internal sealed record MetricsRecord(
    [property: JsonPropertyName("step")] int Step,
    [property: JsonPropertyName("loss")] float Loss,
    [property: JsonPropertyName("lr")] float LearningRate,
    [property: JsonPropertyName("grad_norm")] double GradNorm,
    [property: JsonPropertyName("tokens")] long Tokens,
    [property: JsonPropertyName("ms")] double Milliseconds)
{
    [JsonPropertyName("trained_tokens")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? TrainedTokens { get; init; }

    [JsonPropertyName("val_loss")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float? ValLoss { get; init; }

    [JsonPropertyName("hella_acc")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float? HellaSwagAccuracy { get; init; }
}
