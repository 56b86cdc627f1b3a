using System.Text.RegularExpressions;

namespace SharpGpt;

/// <summary>The runtime's I/O error messages quote the file they failed on ("No space left on device : '/out/x'",
/// "Access to the path '/out/x' is denied."); this takes them apart so an error can lead with the file.</summary>
internal static partial class IoErrorText
{
    /// <summary>The quoted path of the message, or null, and the message without it, starting in lower case.</summary>
    public static (string? Path, string Reason) Split(string message)
    {
        var m = QuotedPath().Match(message);
        if (!m.Success)
        {
            return (null, message);
        }

        string rest = (m.Groups["before"].Value.TrimEnd(' ', ':') + m.Groups["after"].Value).Trim().TrimEnd('.');
        return (m.Groups["path"].Value, rest.Length == 0 ? "I/O error" : char.ToLowerInvariant(rest[0]) + rest[1..]);
    }

    [GeneratedRegex(@"^(?<before>.*?)\s*'(?<path>[^']+)'(?<after>.*)$", RegexOptions.Singleline)]
    private static partial Regex QuotedPath();
}
