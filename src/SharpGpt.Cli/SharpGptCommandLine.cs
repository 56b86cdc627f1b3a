using System.CommandLine;
using SharpGpt.Cli.Commands;

namespace SharpGpt.Cli;

/// <summary>
/// The sharpgpt command line: parses the arguments and runs the command. This is the one place where a
/// command's failure is caught; <see cref="ErrorReport"/> turns it into what the user reads.
/// </summary>
internal static class SharpGptCommandLine
{
    /// <summary>Exit code of a usage error the parser finds (an unknown option, a missing or malformed value).</summary>
    public const int UsageErrorExitCode = 2;

    public static int Run(string[] args)
    {
        var verbose = new Option<bool>("--verbose") { Description = "With an error, print its stack trace too (as does SHARPGPT_DEBUG=1)", Recursive = true };
        var root = new RootCommand("SharpGPT: train, evaluate and sample GPT-2 models in .NET.") { verbose };
        foreach (var command in CommandRegistry.All())
        {
            root.Subcommands.Add(command);
        }

        var parse = root.Parse(args);
        // Errors are reported below, not by the parser's handler, and train handles Ctrl-C itself.
        var configuration = new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };
        if (parse.Errors.Count > 0)
        {
            parse.Invoke(configuration);
            return UsageErrorExitCode;
        }

        try
        {
            return parse.Invoke(configuration);
        }
        catch (Exception e)
        {
            return ErrorReport.Print(parse.CommandResult.Command.Name, e, parse.GetValue(verbose) || ErrorReport.DebugFromEnvironment);
        }
    }
}
