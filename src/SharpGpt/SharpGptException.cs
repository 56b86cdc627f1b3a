namespace SharpGpt;

/// <summary>
/// A failure the caller caused and can fix: a missing, empty, unreadable or corrupt file, a bad setting,
/// settings that do not fit together, a full or read-only disk. It names what is at fault in
/// <see cref="Subject"/> (a file's path, or the name of the parameter or options property), says what is
/// wrong in <see cref="Problem"/> and, where there is something to say, what to do in <see cref="Remedy"/>.
/// Its message is one line: <c>subject: problem[; remedy]</c>.
/// </summary>
public class SharpGptException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="subject">The file or the parameter(s) at fault, e.g. a path or "SequenceLength".</param>
    /// <param name="problem">What is wrong with it.</param>
    /// <param name="remedy">What to do about it, when there is something to say.</param>
    /// <param name="innerException">The failure that caused this one, if any.</param>
    public SharpGptException(string subject, string problem, string? remedy = null, Exception? innerException = null)
        : base(remedy is null ? $"{subject}: {problem}" : $"{subject}: {problem}; {remedy}", innerException)
    {
        Subject = subject;
        Problem = problem;
        Remedy = remedy;
    }

    /// <summary>The file or the parameter(s) at fault.</summary>
    public string Subject { get; }

    /// <summary>What is wrong with it.</summary>
    public string Problem { get; }

    /// <summary>What to do about it; null when there is nothing to add.</summary>
    public string? Remedy { get; }
}
