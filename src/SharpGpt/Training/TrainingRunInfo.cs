using SharpGpt.Devices;
using SharpGpt.Model;

namespace SharpGpt.Training;

/// <summary>The settings a resumed run must share with the run that wrote the checkpoint.</summary>
internal sealed record TrainingRunInfo(int MicroBatch, int SeqLen, long TotalBatchTokens, int WorldSize, string DataDir, ulong Seed)
{
    public bool RandomWindows { get; init; }

    /// <summary>Checkpoints from before mixed precision have none: they were fp32.</summary>
    public Precision Precision { get; init; }

    /// <summary>Checkpoints from before the GPU backend have none: they were trained on the CPU.</summary>
    public DeviceKind Device { get; init; }

    /// <summary>Human-readable differences, empty when compatible.</summary>
    public IEnumerable<string> Differences(TrainingRunInfo other)
    {
        // Ranks that split the same sequences differently (2 x 6 or 1 x 12) read the same batches.
        bool sameSequences = (long)MicroBatch * WorldSize == (long)other.MicroBatch * other.WorldSize;
        if (MicroBatch != other.MicroBatch && !sameSequences)
        {
            yield return $"micro-batch {MicroBatch} in the checkpoint, {other.MicroBatch} now";
        }

        if (SeqLen != other.SeqLen)
        {
            yield return $"seq-len {SeqLen} in the checkpoint, {other.SeqLen} now";
        }

        if (TotalBatchTokens != other.TotalBatchTokens)
        {
            yield return $"total-batch-tokens {TotalBatchTokens} in the checkpoint, {other.TotalBatchTokens} now";
        }

        if (WorldSize != other.WorldSize && !sameSequences)
        {
            yield return $"ranks {WorldSize} in the checkpoint, {other.WorldSize} now (resume needs the same number of ranks)";
        }

        if (!string.Equals(Path.GetFullPath(DataDir), Path.GetFullPath(other.DataDir), StringComparison.Ordinal))
        {
            yield return $"data {DataDir} in the checkpoint, {other.DataDir} now";
        }

        if (RandomWindows != other.RandomWindows)
        {
            yield return $"batches {(RandomWindows ? "from random windows" : "in order")} in the checkpoint, {(other.RandomWindows ? "from random windows" : "in order")} now";
        }

        if (Seed != other.Seed)
        {
            yield return $"seed {Seed} in the checkpoint, {other.Seed} now";
        }
    }

    /// <summary>A difference a resume allows, said out loud: the same sequences per micro-step split over
    /// another number of ranks (threads or processes). The batches are the same; the gradient sums run in
    /// another order.</summary>
    public string? RankSplitChange(TrainingRunInfo other) => MicroBatch == other.MicroBatch && WorldSize == other.WorldSize ? null
        : $"the checkpoint was trained as {WorldSize} rank(s) x micro-batch {MicroBatch}, this run is {other.WorldSize} rank(s) x micro-batch {other.MicroBatch} " +
          "(the same batches; the gradients are summed in another order, so the losses will not match an uninterrupted run bit for bit)";

    /// <summary>A difference a resume allows, said out loud: the precision. Checkpoints hold the fp32
    /// master weights and AdamW moments either way, so only the arithmetic from here on changes.</summary>
    public string? PrecisionChange(TrainingRunInfo other) => Precision == other.Precision ? null
        : $"the checkpoint was trained in {Name(Precision)}, this run continues in {Name(other.Precision)} " +
          $"(its fp32 weights and AdamW moments carry over; the losses will not match an uninterrupted {Name(Precision)} run exactly)";

    /// <summary>A difference a resume allows, said out loud: the device. Checkpoints are the same on every
    /// device; only the order of the sums changes.</summary>
    public string? DeviceChange(TrainingRunInfo other) => Device == other.Device ? null
        : $"the checkpoint was trained on {DeviceNames.Of(Device)}, this run continues on {DeviceNames.Of(other.Device)} "
          + "(weights and AdamW moments carry over; the devices sum in other orders, so the losses will not match an uninterrupted run bit for bit)";

    private static string Name(Precision precision) => precision.ToString().ToLowerInvariant();
}
