namespace SharpGpt.Training;

/// <summary>The observer of ranks other than 0: rank 0 reports for the job.</summary>
internal sealed class SilentObserver : ITrainingObserver
{
    public void OnStart(TrainingStartInfo info)
    {
    }

    public void OnStep(int step, StepResult result, double milliseconds)
    {
    }

    public void OnValidation(int step, float valLoss, bool wholeSplit)
    {
    }

    public void OnSample(int step, string text)
    {
    }

    public void OnCheckpoint(int step, string path)
    {
    }

    public void OnMessage(string message)
    {
    }
}
