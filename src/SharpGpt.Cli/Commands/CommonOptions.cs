using System.CommandLine;
using SharpGpt.Distributed;

namespace SharpGpt.Cli.Commands;

/// <summary>Options several commands share.</summary>
internal static class CommonOptions
{
    public static Option<int> Threads() => new("--threads") { Description = "Worker threads (default: all cores, shared out among the mpirun ranks on this machine)" };

    public static Option<long> CommChunk() => new("--comm-chunk")
    {
        Description = "Floats per MPI call when large buffers are all-reduced, reduce-scattered or all-gathered",
        DefaultValueFactory = _ => MpiCollectives.DefaultChunkFloats,
    };

    // Ranks on one machine would otherwise each start a thread per core and fight over them. When
    // mpirun binds each rank to a core, ProcessorCount already reports 1.
    public static int ResolveThreads(int requested) => requested > 0 ? requested : Math.Max(1, Environment.ProcessorCount / MpiLaunch.LocalRanks);
}
