namespace SharpGpt.Training;

/// <summary>Turns what a <see cref="Trainer"/> observes into the public <see cref="TrainingEvent"/>s, adding the
/// rates a person wants: tokens per second, MFU against the measured peak, and the time left.</summary>
/// <param name="progress">Where the events go; null drops them.</param>
/// <param name="peakFlops">FLOP/s of every thread of every rank at once, or 0 where none is known (a GPU).</param>
internal sealed class EventReporter(IProgress<TrainingEvent>? progress, double peakFlops) : ITrainingObserver
{
    private TrainingStartInfo? _info;
    private double _elapsedMs;
    private int _timedSteps;
    private int _step;

    public void Report(TrainingEvent e) => progress?.Report(e);

    public void OnStart(TrainingStartInfo info)
    {
        _info = info;
        _step = info.FirstStep;
        Report(new TrainingStarted(info.FirstStep, info.MaxSteps, info.Parameters, info.ResumedFrom));
    }

    public void OnStep(int step, StepResult result, double milliseconds)
    {
        var info = _info!;
        _step = step;
        _elapsedMs += milliseconds;
        _timedSteps++;
        double seconds = milliseconds / 1000;
        double? mfu = peakFlops > 0 ? info.FlopsPerStep / seconds / peakFlops : null;
        var remaining = TimeSpan.FromMilliseconds(_elapsedMs / _timedSteps * (info.MaxSteps - step));
        Report(new TrainingStepCompleted(step, info.MaxSteps, result.Loss, result.LearningRate, result.GradNorm, result.TargetTokens,
            TimeSpan.FromMilliseconds(milliseconds), info.Plan.TotalBatchTokens / seconds, mfu, remaining));
    }

    public void OnValidation(int step, float valLoss, bool wholeSplit) => Report(new ValidationCompleted(step, valLoss, wholeSplit));

    public void OnSample(int step, string text) => Report(new SampleGenerated(step, text));

    public void OnCheckpoint(int step, string path) => Report(new CheckpointSaved(step, path));

    public void OnMessage(string message) => Report(new TrainingMessage(_step, message));

    public void OnEvaluationProgress(int step, string evaluation, long done, long total, double seconds) =>
        Report(new EvaluationAdvanced(step, evaluation, new EvaluationProgress(done, total), TimeSpan.FromSeconds(seconds)));

    public void OnHellaSwag(int step, double accuracyNorm, double accuracy, int count) => Report(new HellaSwagCompleted(step, accuracyNorm, accuracy, count));
}
