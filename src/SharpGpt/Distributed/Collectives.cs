using SharpGpt.Training;

namespace SharpGpt.Distributed;

/// <summary>Picks the collectives for this process: MPI when mpirun started it, otherwise the single-process identity.</summary>
internal static class Collectives
{
    public static ICollectives FromEnvironment(long chunkFloats = MpiCollectives.DefaultChunkFloats) =>
        MpiLaunch.IsActive ? MpiCollectives.Initialize(chunkFloats) : new SingleProcess();
}
