using SharpGpt.Model;

namespace SharpGpt.Training;

/// <summary>Everything in a checkpoint besides the float buffers; stored as JSON.</summary>
internal sealed record CheckpointMetadata(
    GptConfig Config,
    int Step,
    int OptimizerStep,
    int LoaderShard,
    long LoaderPosition,
    ulong[] RngState,
    TrainingRunInfo? Run,
    string? TokenizerJson,
    bool HasOptimizerState)
{
    /// <summary>The chat template the model was fine-tuned with (<see cref="SharpGpt.ChatTemplate"/>), else null.</summary>
    public string? ChatTemplate { get; init; }
}
