using SharpGpt.Cli;

namespace SharpGpt.Tests.Cli;

/// <summary>Runs sharpgpt commands in-process, through the executable's own entry point, and captures what they print.
/// The console is one per process, so runs take turns: test classes of other collections (the emulated GPU's
/// and the console's) run in parallel, and one run's output must not land in another's capture.</summary>
internal static class CliRunner
{
    private static readonly Lock ConsoleTurn = new();

    public static (int Code, string Out, string Err) Run(params string[] args) => Capture(() => SharpGptCommandLine.Run(args));

    /// <summary>Runs <paramref name="run"/> with the console captured, in its turn.</summary>
    public static (int Code, string Out, string Err) Capture(Func<int> run)
    {
        lock (ConsoleTurn)
        {
            var output = new StringWriter();
            var error = new StringWriter();
            var (previousOut, previousErr) = (Console.Out, Console.Error);
            Console.SetOut(output);
            Console.SetError(error);
            try
            {
                int code = run();
                return (code, output.ToString(), error.ToString());
            }
            finally
            {
                Console.SetOut(previousOut);
                Console.SetError(previousErr);
            }
        }
    }
}
