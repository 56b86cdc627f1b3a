using System.Text.Json.Serialization;

namespace SharpGpt.Training;

/// <summary>One line of metrics.jsonl.</summary>
internal sealed record MetricsRecord(
    [property: JsonPropertyName("step")] int Step,
    [property: JsonPropertyName("loss")] float Loss,
    [property: JsonPropertyName("lr")] float LearningRate,
    [property: JsonPropertyName("grad_norm")] double GradNorm,
    [property: JsonPropertyName("tokens")] long Tokens,
    [property: JsonPropertyName("ms")] double Milliseconds)
{
    [JsonPropertyName("val_loss")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float? ValLoss { get; init; }

    [JsonPropertyName("hella_acc")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float? HellaSwagAccuracy { get; init; }
}
