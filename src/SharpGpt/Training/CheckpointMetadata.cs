using SharpGpt.Model;

namespace SharpGpt.Training;

/// <summary>Everything in a checkpoint besides the float buffers; stored as JSON.</summary>
public sealed record CheckpointMetadata(
    GptConfig Config,
    int Step,
    int OptimizerStep,
    int LoaderShard,
    long LoaderPosition,
    ulong[] RngState,
    TrainingRunInfo? Run,
    string? TokenizerJson,
    bool HasOptimizerState);
