namespace SharpGpt.Training;

/// <summary>What a training run reports as it goes; the CLI draws it, tests record it.</summary>
internal interface ITrainingObserver
{
    void OnStart(TrainingStartInfo info);

    void OnStep(int step, StepResult result, double milliseconds);

    void OnValidation(int step, float valLoss, bool wholeSplit);

    void OnSample(int step, string text);

    void OnCheckpoint(int step, string path);

    void OnMessage(string message);

    /// <summary>How far an evaluation during training has got, after each of its parts: <paramref name="done"/> of
    /// <paramref name="total"/> batches ("validation") or examples ("HellaSwag") of this rank, <paramref name="seconds"/> in.</summary>
    void OnEvaluationProgress(int step, string evaluation, long done, long total, double seconds)
    {
    }

    /// <summary>A HellaSwag evaluation: acc_norm (the figure logged as hella_acc), acc and the example count.</summary>
    void OnHellaSwag(int step, double accuracyNorm, double accuracy, int count) =>
        OnMessage(FormattableString.Invariant($"step {step}: HellaSwag acc_norm {accuracyNorm:F4}, acc {accuracy:F4} over {count} examples"));
}

/// <summary>The plan of a run, reported once at its start.</summary>
internal sealed record TrainingStartInfo(BatchPlan Plan, int FirstStep, int MaxSteps, long Parameters, double FlopsPerStep, string? ResumedFrom);
