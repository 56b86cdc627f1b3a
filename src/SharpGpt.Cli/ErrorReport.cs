namespace SharpGpt.Cli;

/// <summary>
/// How a failed command is reported: an error the user can fix (a <see cref="SharpGptException"/>, or a
/// file or disk error from the runtime) is one line, <c>sharpgpt COMMAND: SUBJECT: PROBLEM[; REMEDY]</c>,
/// and exit code 1; anything else is a bug, reported with its stack trace and exit code 70. With
/// --verbose or SHARPGPT_DEBUG=1 a user error carries its stack trace too.
/// </summary>
internal static class ErrorReport
{
    public const int UserErrorExitCode = 1;

    /// <summary>EX_SOFTWARE of sysexits.h: an internal error.</summary>
    public const int InternalErrorExitCode = 70;

    public static bool DebugFromEnvironment => Environment.GetEnvironmentVariable("SHARPGPT_DEBUG") is "1" or "true";

    /// <summary>What to print for <paramref name="error"/>, which ended <paramref name="command"/>, and the exit code.</summary>
    /// <param name="where">Inserted after the command, e.g. "rank 1 of 2: " under mpirun.</param>
    public static (string Text, int ExitCode) Describe(string command, Exception error, bool verbose, string where = "")
    {
        error = Unwrap(error);
        if (UserMessage(command, error) is { } message)
        {
            return ($"sharpgpt {command}: {where}{message}{(verbose ? Environment.NewLine + error : "")}", UserErrorExitCode);
        }

        return ($"sharpgpt {command}: {where}internal error: {error.GetType().Name}: {error.Message}{Environment.NewLine}"
            + $"This is a bug in SharpGPT; please report it with the details below.{Environment.NewLine}{error}", InternalErrorExitCode);
    }

    /// <summary>Prints the report of <paramref name="error"/> on stderr and returns the exit code.</summary>
    public static int Print(string command, Exception error, bool verbose)
    {
        var (text, code) = Describe(command, error, verbose);
        Console.Out.Flush();
        Console.Error.WriteLine(text);
        return code;
    }

    /// <summary>The one-line message of an error the user can fix, or null for a bug. The library's names for what is
    /// wrong (an options property, a parameter) become the command's flags; an argument error whose parameter is no
    /// flag of the command is a bug.</summary>
    private static string? UserMessage(string command, Exception e) => e switch
    {
        SharpGptException user => FlagNames.Translate(command, user.Message),
        ArgumentException { ParamName: { } name } argument when FlagNames.Of(command, name) is { } flag =>
            $"{flag}: {WithoutLeading(FlagNames.Translate(command, FirstLine(argument.Message).Replace($" (Parameter '{name}')", "", StringComparison.Ordinal)), flag)}",
        // Library messages lead with the file; the runtime's own name it in quotes.
        InvalidDataException => FlagNames.Translate(command, e.Message),
        IOException or UnauthorizedAccessException => IoErrorText.Split(e.Message) is (string path, var reason) ? $"{path}: {reason}." : e.Message,
        _ => null,
    };

    // "--tokens: --tokens must be >= 0." reads better as "--tokens: must be >= 0."
    private static string WithoutLeading(string message, string flag) =>
        message.StartsWith(flag + " ", StringComparison.Ordinal) ? message[(flag.Length + 1)..] : message;

    private static string FirstLine(string text) => text.Split('\n')[0].TrimEnd('\r');

    private static Exception Unwrap(Exception e)
    {
        while (e is AggregateException { InnerExceptions.Count: 1 } or System.Reflection.TargetInvocationException && e.InnerException is not null)
        {
            e = e.InnerException!;
        }

        return e;
    }
}
