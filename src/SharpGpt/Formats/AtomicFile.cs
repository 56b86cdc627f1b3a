using System.Globalization;

namespace SharpGpt.Formats;

/// <summary>
/// Writes a file through a temporary sibling (<c>NAME.tmp-PID</c>) and a rename, so a crash never leaves
/// a half-written file under the real name. A failed write (a full or read-only disk) deletes its
/// temporary file and throws a <see cref="UserErrorException"/> naming the file.
/// </summary>
public static class AtomicFile
{
    private const string TemporaryMarker = ".tmp-";

    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string temp = full + TemporaryMarker + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e)
        {
            TryDelete(temp);
            if (e is IOException or UnauthorizedAccessException)
            {
                throw new UserErrorException(full, $"cannot write it: {IoErrorText.Split(e.Message).Reason}", innerException: e);
            }

            throw;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The write already failed; that is the error to report.
        }
    }
}
