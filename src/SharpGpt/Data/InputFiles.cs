using Microsoft.Extensions.FileSystemGlobbing;

namespace SharpGpt.Data;

/// <summary>Turns what <c>prepare --input</c> was given (files, folders and globs) into the list of files to read,
/// in document order: the inputs in the order given, a folder's or a glob's files in sorted path order.</summary>
internal static class InputFiles
{
    /// <summary>The endings <see cref="DataPreparer"/> reads, as a user would write them.</summary>
    public static readonly IReadOnlyList<string> SupportedEndings = [".txt", ".jsonl", ".jsonl.gz", ".parquet"];

    /// <summary>Whether <paramref name="path"/> ends in one of <see cref="SupportedEndings"/>.</summary>
    public static bool IsSupported(string path) =>
        SupportedEndings.Any(ending => path.EndsWith(ending, StringComparison.OrdinalIgnoreCase));

    /// <summary>Every file the inputs name; a file named twice is read once, where it first appears. Throws naming
    /// the input when a path does not exist, a folder or glob holds no supported file, or a file's type is unknown.</summary>
    public static IReadOnlyList<string> Resolve(IEnumerable<string> inputs)
    {
        var files = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var input in inputs)
        {
            foreach (var file in Expand(input))
            {
                if (seen.Add(file))
                {
                    files.Add(file);
                }
            }
        }

        return files.Count > 0 ? files : throw new SharpGptException("--input", "no input given", "--input needs at least one file, folder or glob");
    }

    private static IEnumerable<string> Expand(string input)
    {
        if (string.IsNullOrWhiteSpace(input))
        {
            throw new SharpGptException("--input", "a path is empty");
        }

        if (IsGlob(input))
        {
            return Sorted(Glob(input), input, "glob");
        }

        if (Directory.Exists(input))
        {
            return Sorted(Directory.EnumerateFiles(input, "*", SearchOption.AllDirectories), input, "folder");
        }

        if (!File.Exists(input))
        {
            throw new FileNotFoundException($"{input}: input file not found.", input);
        }

        if (!IsSupported(input))
        {
            throw new SharpGptException(input, $"unsupported input type '{Path.GetExtension(input)}'", $"expected {Describe()}");
        }

        return [Path.GetFullPath(input)];
    }

    private static List<string> Sorted(IEnumerable<string> candidates, string input, string kind)
    {
        var files = candidates.Where(IsSupported).Select(Path.GetFullPath).Order(StringComparer.Ordinal).ToList();
        return files.Count > 0 ? files : throw new FileNotFoundException($"{input}: the {kind} holds no {Describe()} file.", input);
    }

    // Microsoft.Extensions.FileSystemGlobbing's syntax: * within a folder name, ** across folders.
    private static bool IsGlob(string path) => path.Contains('*', StringComparison.Ordinal);

    // The glob's root is its longest leading run of folders without wildcards; the matcher takes the rest.
    private static IEnumerable<string> Glob(string pattern)
    {
        var normalized = pattern.Replace('\\', '/');
        var segments = normalized.Split('/');
        var fixedCount = 0;
        while (fixedCount < segments.Length - 1 && !IsGlob(segments[fixedCount]))
        {
            fixedCount++;
        }

        var root = string.Join('/', segments[..fixedCount]);
        root = root.Length == 0 ? (normalized.StartsWith('/') ? "/" : ".") : root;
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"{pattern}: the folder {root} does not exist.");
        }

        var matcher = new Matcher(StringComparison.Ordinal);
        matcher.AddInclude(string.Join('/', segments[fixedCount..]));
        return matcher.GetResultsInFullPath(root);
    }

    private static string Describe() => string.Join(", ", SupportedEndings.SkipLast(1)) + " or " + SupportedEndings[^1];
}
