using System.Text;

namespace SharpGpt.Data;

/// <summary>Reads a .txt file's characters as <see cref="File.ReadAllText(string)"/> decodes them, a buffer at a
/// time: UTF-8 unless a byte order mark names another encoding, the mark itself dropped, invalid bytes as U+FFFD.
/// It is the same <see cref="StreamReader"/> that method uses, read in parts, so its decoder carries a character
/// whose bytes straddle two reads over to the next.</summary>
internal static class TextFileReader
{
    /// <summary>Bytes read from the file at a time.</summary>
    public const int ReadBytes = 1 << 16;

    /// <summary>A reader over the file; <paramref name="readBytes"/> is the size of each read (the reader's
    /// minimum is 128).</summary>
    public static StreamReader Open(string path, int readBytes = ReadBytes)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        return new StreamReader(file, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, readBytes);
    }

    /// <summary>The number of characters the file decodes to, and whether the last two are a surrogate pair (then
    /// a cut just before the last one would split the pair); read once, holding one buffer.</summary>
    public static (long Chars, bool EndsWithSurrogatePair) Measure(string path)
    {
        using var reader = Open(path);
        var buffer = new char[ReadBytes];
        long chars = 0;
        char secondLast = '\0', last = '\0';
        for (int read; (read = reader.Read(buffer)) > 0;)
        {
            chars += read;
            (secondLast, last) = read >= 2 ? (buffer[read - 2], buffer[read - 1]) : (last, buffer[0]);
        }

        return (chars, char.IsSurrogatePair(secondLast, last));
    }
}
