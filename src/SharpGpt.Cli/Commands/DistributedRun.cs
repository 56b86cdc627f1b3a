using SharpGpt.Distributed;
using SharpGpt.Training;

namespace SharpGpt.Cli.Commands;

/// <summary>
/// Runs a command on every rank of an mpirun job, or as the plain single process without one.
/// A rank that fails prints its error and aborts the whole job, so mpirun ends non-zero instead
/// of the other ranks waiting forever in their next collective.
/// </summary>
internal static class DistributedRun
{
    public static int Run(long chunkFloats, Func<ICollectives, int> body)
    {
        if (!MpiLaunch.IsActive)
        {
            using var single = new SingleProcess();
            return body(single);
        }

        var mpi = MpiCollectives.Initialize(chunkFloats);
        int code;
        try
        {
            code = body(mpi);
        }
        catch (Exception e)
        {
            Console.Out.Flush();
            Console.Error.WriteLine($"error on rank {mpi.Rank} of {mpi.WorldSize}: {e.Message}");
            Console.Error.WriteLine(e);
            Console.Error.Flush();
            mpi.Abort(1);
            throw;
        }

        mpi.Dispose();
        return code;
    }
}
