using SharpGpt.Data;
using SharpGpt.Model;

namespace SharpGpt.Training;

/// <summary>Mean loss over the targets of a split, from its start.</summary>
public static class ValidationLoss
{
    /// <param name="steps">Batches to average over; 0 or more than the split holds means the whole split once.</param>
    /// <returns>The summed loss and the target count, so ranks can combine them exactly.</returns>
    public static (double LossSum, long Count) Measure(GptModel model, TokenDataLoader loader, int steps)
    {
        loader.Reset();
        long available = Math.Max(1, loader.StepsPerEpoch);
        long n = steps <= 0 || steps > available ? available : steps;
        double sum = 0;
        long count = 0;
        for (long i = 0; i < n; i++)
        {
            loader.NextBatch();
            model.ForwardLoss(loader.Inputs, loader.Targets, loader.BatchSize, loader.SeqLen);
            sum += model.LossSum;
            count += model.TargetCount;
        }

        return (sum, count);
    }
}
