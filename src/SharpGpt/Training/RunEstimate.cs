namespace SharpGpt.Training;

/// <summary>How long a <see cref="TrainingPlan"/> takes on this machine, in seconds, from its timed micro-steps.</summary>
internal sealed record RunEstimate(double TrainSeconds, double ValSeconds, double HellaSwagSeconds)
{
    public double TotalSeconds => TrainSeconds + ValSeconds + HellaSwagSeconds;
}
