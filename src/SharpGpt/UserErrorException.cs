namespace SharpGpt;

/// <summary>
/// A failure the user caused and can fix: a missing, empty, unreadable or corrupt file, a bad option
/// value, settings that do not fit together, a full or read-only disk. It names what is at fault, so
/// the command line prints it as one line (<c>subject: problem[; remedy]</c>) without a stack trace.
/// </summary>
public class UserErrorException : Exception
{
    /// <param name="subject">The file or the option(s) at fault, e.g. a path or "--seq-len".</param>
    /// <param name="problem">What is wrong with it.</param>
    /// <param name="remedy">What to do about it, when there is something to say.</param>
    public UserErrorException(string subject, string problem, string? remedy = null, Exception? innerException = null)
        : base(remedy is null ? $"{subject}: {problem}" : $"{subject}: {problem}; {remedy}", innerException)
    {
        Subject = subject;
        Problem = problem;
        Remedy = remedy;
    }

    /// <summary>The file or the option(s) at fault.</summary>
    public string Subject { get; }

    public string Problem { get; }

    public string? Remedy { get; }
}
