using SharpGpt.Kernels;
using SharpGpt.Model;

namespace SharpGpt.Training;

/// <summary>
/// How a total batch of tokens per optimizer step is reached: micro-batch x sequence length x
/// ranks x accumulation steps.
/// </summary>
internal sealed record BatchPlan(int MicroBatch, int SeqLen, int WorldSize, long TotalBatchTokens)
{
    public long TokensPerMicroStep => (long)MicroBatch * SeqLen * WorldSize;

    public int AccumulationSteps => (int)(TotalBatchTokens / TokensPerMicroStep);

    /// <summary>Checks the total divides; otherwise says which totals and micro-batches would.</summary>
    public static BatchPlan Create(long totalBatchTokens, int microBatch, int seqLen, int worldSize = 1)
    {
        if (microBatch <= 0 || seqLen <= 0 || worldSize <= 0)
        {
            throw new SharpGptException("MicroBatchSize, SequenceLength", $"micro-batch ({microBatch}), seq-len ({seqLen}) and ranks ({worldSize}) must be positive.");
        }

        long perMicroStep = (long)microBatch * seqLen * worldSize;
        if (totalBatchTokens <= 0)
        {
            totalBatchTokens = perMicroStep;
        }

        if (totalBatchTokens % perMicroStep != 0)
        {
            long below = totalBatchTokens / perMicroStep * perMicroStep;
            long above = below + perMicroStep;
            var divisors = DividingMicroBatches(totalBatchTokens, seqLen, worldSize).Take(8).ToList();
            string micro = divisors.Count > 0 ? $"; or keep the total with MicroBatchSize {string.Join(", ", divisors)}" : "";
            throw new SharpGptException("TotalBatchTokens",
                $"{totalBatchTokens} is not a multiple of micro-batch x seq-len x ranks = {microBatch} x {seqLen} x {worldSize} = {perMicroStep}",
                $"use TotalBatchTokens {(below > 0 ? $"{below} or " : "")}{above}{micro}.");
        }

        return new BatchPlan(microBatch, seqLen, worldSize, totalBatchTokens);
    }

    /// <summary>Micro-batch sizes that divide the total, smallest first.</summary>
    public static IEnumerable<int> DividingMicroBatches(long totalBatchTokens, int seqLen, int worldSize)
    {
        long perSeq = (long)seqLen * worldSize;
        if (totalBatchTokens % perSeq != 0)
        {
            yield break;
        }

        long sequences = totalBatchTokens / perSeq;
        for (long b = 1; b <= sequences && b <= 4096; b++)
        {
            if (sequences % b == 0)
            {
                yield return (int)b;
            }
        }
    }

    /// <summary>Bytes that do not depend on the batch: parameters, gradients and both AdamW moments (fp32),
    /// and in bf16 the parameters' bf16 copy.</summary>
    public static long StateBytes(GptConfig config, Precision precision = Precision.Fp32) =>
        ((4L * sizeof(float)) + (precision == Precision.Bf16 ? sizeof(ushort) : 0)) * new ParameterLayout(config).Total;

    /// <summary>The largest micro-batch whose memory fits the budget and that divides the total.</summary>
    public static (BatchPlan Plan, long Bytes) Auto(GptConfig config, IGptKernels kernels, long totalBatchTokens, int seqLen, int worldSize, long memoryBudgetBytes,
        Precision precision = Precision.Fp32)
    {
        long state = StateBytes(config, precision);
        var candidates = DividingMicroBatches(totalBatchTokens, seqLen, worldSize).ToList();
        if (candidates.Count == 0)
        {
            throw new SharpGptException("TotalBatchTokens", $"{totalBatchTokens} is not a multiple of seq-len x ranks = {seqLen} x {worldSize}.");
        }

        foreach (int b in Enumerable.Reverse(candidates))
        {
            long bytes = state + Activations.BytesFor(config, kernels, b, seqLen, precision);
            if (bytes <= memoryBudgetBytes)
            {
                return (Create(totalBatchTokens, b, seqLen, worldSize), bytes);
            }
        }

        long minimum = state + Activations.BytesFor(config, kernels, 1, seqLen, precision);
        throw new SharpGptException("MemoryBudgetBytes", $"even micro-batch 1 needs {Format(minimum)} (parameters, gradients and AdamW state {Format(state)}), over the budget of {Format(memoryBudgetBytes)}", "raise MemoryBudgetBytes, or use a shorter SequenceLength or a smaller model.");
    }

    public static string Format(long bytes) => bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):F2} GiB" : $"{bytes / (double)(1L << 20):F1} MiB";
}
