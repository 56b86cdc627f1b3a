using System.Diagnostics;

namespace SharpGpt.Tests.Distributed;

/// <summary>Starts the built sharpgpt CLI as a child process, alone or as the ranks of an mpirun job.</summary>
public static class MpiJob
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    /// <summary>The full path of mpirun, or null when Open MPI is not installed.</summary>
    /// <remarks>Links resolved: mpirun takes the folder it is started from as Open MPI's prefix, and
    /// from Debian's /bin (a link to /usr/bin) that prefix would be "/", which it refuses.</remarks>
    public static string? Mpirun { get; } = FindOnPath("mpirun") is string found ? new FileInfo(found).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? found : null;

    // The test project references the CLI, so sharpgpt.dll (and its runtimeconfig) sits next to the tests.
    private static string CliDll => Path.Combine(AppContext.BaseDirectory, "sharpgpt.dll");

    private static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : FindOnPath("dotnet") ?? "dotnet";

    /// <summary>sharpgpt with these arguments on every one of <paramref name="ranks"/> ranks.</summary>
    public static Result Run(int ranks, params string[] args) => Start(Mpirun!, [.. Launcher(), "-np", $"{ranks}", .. Cli(args)]);

    /// <summary>Two ranks with different arguments (mpirun's MPMD form), to make one rank differ or fail.</summary>
    public static Result RunEach(string[] rank0, string[] rank1) => Start(Mpirun!, [.. Launcher(), "-np", "1", .. Cli(rank0), ":", "-np", "1", .. Cli(rank1)]);

    /// <summary>sharpgpt as a plain process, without mpirun.</summary>
    public static Result RunSingle(params string[] args) => Start(Dotnet, [CliDll, .. args]);

    /// <summary>sharpgpt as a plain process with these environment variables added (runtime settings, say).</summary>
    public static Result RunSingle(IReadOnlyDictionary<string, string> environment, params string[] args) => Start(Dotnet, [CliDll, .. args], environment);

    private static string[] Launcher() =>
        Environment.UserName == "root" ? ["--oversubscribe", "--allow-run-as-root"] : ["--oversubscribe"];

    private static string[] Cli(string[] args) => [Dotnet, CliDll, .. args];

    private static Result Start(string program, string[] args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in {Timeout}:\n{stdout.Result}\n{stderr.Result}");
        }

        return new Result(process.ExitCode, stdout.Result + stderr.Result, $"{program} {string.Join(' ', args)}");
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    /// <summary>How a child process ended: its exit code and everything it printed.</summary>
    public sealed record Result(int ExitCode, string Output, string CommandLine)
    {
        public Result Succeeded()
        {
            Assert.True(ExitCode == 0, $"exit code {ExitCode} from {CommandLine}:\n{Output}");
            return this;
        }
    }
}
