using SharpGpt.Data;
using SharpGpt.Model;

namespace SharpGpt.Training;

/// <summary>Mean loss over the targets of a split, from its start.</summary>
internal static class ValidationLoss
{
    /// <summary>The batches <see cref="Measure"/> reads for <paramref name="steps"/>: 0, or more than the
    /// split holds, means the whole split once.</summary>
    public static long Batches(TokenDataLoader loader, int steps)
    {
        long available = Math.Max(1, loader.StepsPerEpoch);
        return steps <= 0 || steps > available ? available : steps;
    }

    /// <param name="steps">Batches to average over; 0 or more than the split holds means the whole split once.</param>
    /// <param name="progress">Called after each batch with the batches done so far.</param>
    /// <param name="stop">Checked before each batch: a stop request ends the measurement early.</param>
    /// <returns>The summed loss and the target count, so ranks can combine them exactly, and the batches read
    /// (fewer than <see cref="Batches"/> only when a stop request cut it short).</returns>
    public static (double LossSum, long Count, long Batches) Measure(GptNetwork model, TokenDataLoader loader, int steps,
        Action<long>? progress = null, CancellationToken stop = default)
    {
        loader.Reset();
        long n = Batches(loader, steps);
        double sum = 0;
        long count = 0;
        long i = 0;
        for (; i < n && !stop.IsCancellationRequested; i++)
        {
            loader.NextBatch();
            model.ForwardLoss(loader.Inputs, loader.Targets, loader.BatchSize, loader.SeqLen);
            sum += model.LossSum;
            count += model.TargetCount;
            progress?.Invoke(i + 1);
        }

        return (sum, count, i);
    }
}
