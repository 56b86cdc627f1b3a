namespace SharpGpt.Distributed;

/// <summary>
/// Whether this process was started by mpirun (or another PMIx launcher), read from the
/// environment alone, so a plain run never needs an MPI library.
/// </summary>
internal static class MpiLaunch
{
    /// <summary>True when Open MPI's launcher started this process.</summary>
    public static bool IsActive =>
        Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is not null || Environment.GetEnvironmentVariable("PMIX_RANK") is not null;

    /// <summary>Ranks on this machine (1 without mpirun); they share its cores.</summary>
    public static int LocalRanks =>
        int.TryParse(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_LOCAL_SIZE"), out int n) && n > 0 ? n : 1;
}
