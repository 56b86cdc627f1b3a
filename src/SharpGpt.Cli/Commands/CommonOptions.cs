using System.CommandLine;

namespace SharpGpt.Cli.Commands;

/// <summary>Options several commands share.</summary>
internal static class CommonOptions
{
    public static Option<int> Threads() => new("--threads") { Description = "Worker threads (default: all cores)" };

    public static int ResolveThreads(int requested) => requested > 0 ? requested : Environment.ProcessorCount;
}
