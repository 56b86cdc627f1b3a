using System.CommandLine;
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
    // When every rank fails alike (a missing --data), rank 0's abort ends the others while they wait
    // this long, so the user reads the message once; a rank that fails alone still reports.
    private static readonly TimeSpan ReportDelayPerRank = TimeSpan.FromMilliseconds(500);

    public static int Run(ParseResult parse, long chunkFloats, Func<ICollectives, int> body)
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
            Thread.Sleep(ReportDelayPerRank * mpi.Rank);
            bool verbose = parse.GetValue<bool>("--verbose") || ErrorReport.DebugFromEnvironment;
            var (text, exitCode) = ErrorReport.Describe(parse.CommandResult.Command.Name, e, verbose, $"rank {mpi.Rank} of {mpi.WorldSize}: ");
            Console.Out.Flush();
            Console.Error.WriteLine(text);
            Console.Error.Flush();
            mpi.Abort(exitCode);
            throw;
        }

        mpi.Dispose();
        return code;
    }
}
