using System.Globalization;

namespace SharpGpt.Cli;

/// <summary>Sizes in bytes as people write them: 8GiB, 512MiB, 2GB, 1000000.</summary>
internal static class ByteSize
{
    private static readonly (string Suffix, long Factor)[] Units =
        [("GiB", 1L << 30), ("MiB", 1L << 20), ("KiB", 1L << 10), ("GB", 1_000_000_000), ("MB", 1_000_000), ("KB", 1000), ("G", 1L << 30), ("M", 1L << 20), ("B", 1)];

    /// <summary>Parses a size; throws naming <paramref name="flag"/> when the text is none.</summary>
    public static long Parse(string text, string flag)
    {
        string s = text.Trim();
        foreach (var (suffix, factor) in Units)
        {
            if (s.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) && double.TryParse(s[..^suffix.Length], CultureInfo.InvariantCulture, out double v) && v > 0)
            {
                return (long)(v * factor);
            }
        }

        return long.TryParse(s, CultureInfo.InvariantCulture, out long n) && n > 0 ? n : throw new SharpGptException(flag, $"cannot read '{text}' as a memory size (e.g. 8GiB, 512MiB).");
    }

    /// <summary>A size in GiB or MiB.</summary>
    public static string Format(long bytes) => bytes >= 1L << 30
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F2} GiB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):F1} MiB");
}
