using SharpGpt.Distributed;
using SharpGpt.Model;

namespace SharpGpt.Training;

/// <summary>Which <see cref="IDistributedOptimizer"/> a run uses, in one place so that train and bench choose alike.</summary>
internal static class DistributedOptimizer
{
    /// <param name="zeroStage">0: every rank holds all of the moments (thread ranks: each updates its own slice); 1: ZeRO-1.</param>
    public static IDistributedOptimizer Create(GptNetwork model, AdamWSettings settings, ICollectives collectives, int zeroStage = 0,
        long chunkFloats = MpiCollectives.DefaultChunkFloats)
    {
        if (!model.Kernels.IsHostMemory)
        {
            // The collectives move host memory: several ranks and ZeRO-1 are the CPU's for now.
            return collectives.WorldSize == 1 && zeroStage == 0
                ? new ReplicatedAdamW(model, settings, collectives)
                : throw new SharpGptException("Device", "a GPU trains as one process, and mpirun ranks and ZeroStage 1 are the CPU's for now", "use the cpu device with them");
        }

        return (zeroStage, collectives) switch
        {
            (0, ThreadCollectives threads) => new ThreadRankAdamW(model, settings, threads),
            (0, _) => new ReplicatedAdamW(model, settings, collectives),
            (1, _) => new ZeroAdamW(model, settings, collectives, chunkFloats),
            _ => throw new SharpGptException("ZeroStage", $"stage {zeroStage} is not supported (0: off, 1: shard the AdamW moments)."),
        };
    }
}
