namespace SharpGpt.Training;

/// <summary>What one optimizer step did: the true mean loss over every unmasked target of the step,
/// the gradient norm of that mean loss (before clipping), and the learning rate used.</summary>
internal readonly record struct StepResult(float Loss, double GradNorm, float LearningRate, long TargetTokens);
