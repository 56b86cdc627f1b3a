namespace SharpGpt;

/// <summary>How a training run ended.</summary>
/// <param name="Steps">The optimizer steps this call ran (after a resume: from the checkpoint's step on).</param>
/// <param name="LastStep">The step the model is at now.</param>
/// <param name="FinalValidationLoss">The validation loss after the last step, when it was measured.</param>
/// <param name="LastCheckpoint">The newest checkpoint written, or null.</param>
/// <param name="TrainingTime">The time spent in optimizer steps (evaluations and checkpoints excluded).</param>
public sealed record TrainingResult(int Steps, int LastStep, float? FinalValidationLoss, string? LastCheckpoint, TimeSpan TrainingTime)
{
    /// <summary>The batches the final validation read; 0 when there was none.</summary>
    public long FinalValidationBatches { get; init; }

    /// <summary>Whether the final validation read the whole validation split.</summary>
    public bool FinalValidationWholeSplit { get; init; }

    /// <summary>Whether a cancellation ended the run early: after the step in progress, and its checkpoint when
    /// <see cref="TrainingOptions.OutputDirectory"/> is set.</summary>
    public bool Stopped { get; init; }

    /// <summary>Whether the loss or the gradient became infinite or NaN, which stopped the run before that step's update.</summary>
    public bool Diverged { get; init; }
}
