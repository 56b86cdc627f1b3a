namespace SharpGpt.Training;

/// <summary>Linear warm-up to the peak, then cosine decay to the minimum at the last step (GPT-2 / build-nanogpt).</summary>
internal sealed record LearningRateSchedule(float MaxLearningRate, float MinLearningRate, int WarmupSteps, int MaxSteps)
{
    /// <param name="step">Zero-based index of the optimizer step.</param>
    public float At(int step)
    {
        if (step < WarmupSteps)
        {
            return MaxLearningRate * (step + 1) / WarmupSteps;
        }

        if (step >= MaxSteps)
        {
            return MinLearningRate;
        }

        double ratio = (double)(step - WarmupSteps) / Math.Max(1, MaxSteps - WarmupSteps);
        double coeff = 0.5 * (1.0 + Math.Cos(Math.PI * ratio));
        return (float)(MinLearningRate + (coeff * (MaxLearningRate - MinLearningRate)));
    }
}
