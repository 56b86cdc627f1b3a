using System.Diagnostics;
using System.Globalization;

namespace SharpGpt.Formats;

/// <summary>
/// Writes a file through a temporary sibling (<c>NAME.tmp-PID</c>) and a rename, so a crash never leaves
/// a half-written file under the real name. A failed write (a full or read-only disk) deletes its
/// temporary file and throws a <see cref="SharpGptException"/> naming the file; the temporary files of
/// processes that died while writing are found and removed by <see cref="RemoveStaleTemporaryFiles"/>.
/// </summary>
internal static class AtomicFile
{
    private const string TemporaryMarker = ".tmp-";

    // The temporary files being written; a process about to exit at once deletes them (AbandonWrites).
    private static readonly Lock InFlightLock = new();
    private static readonly HashSet<string> InFlight = [];

    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string temp = full + TemporaryMarker + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            FileStream stream;
            lock (InFlightLock)
            {
                stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
                InFlight.Add(temp);
            }

            using (stream)
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
                throw new SharpGptException(full, $"cannot write it: {IoErrorText.Split(e.Message).Reason}", innerException: e);
            }

            throw;
        }
        finally
        {
            lock (InFlightLock)
            {
                InFlight.Remove(temp);
            }
        }
    }

    /// <summary>
    /// For a process that must stop at once (a second Ctrl-C): deletes the temporary files of the writes in
    /// progress and then calls <paramref name="exit"/>, during which no new write can start. A write whose
    /// file was deleted fails at its rename, so nothing half-written is left under any name.
    /// </summary>
    public static void AbandonWrites(Action exit)
    {
        lock (InFlightLock)
        {
            foreach (string temp in InFlight)
            {
                TryDelete(temp);
            }

            exit();
        }
    }

    /// <summary>Deletes the temporary files in <paramref name="dir"/> that processes which no longer run left
    /// behind (killed while they wrote), and returns them with their sizes.</summary>
    public static IReadOnlyList<(string Path, long Bytes, int ProcessId)> RemoveStaleTemporaryFiles(string dir)
    {
        var removed = new List<(string, long, int)>();
        if (!Directory.Exists(dir))
        {
            return removed;
        }

        foreach (var file in new DirectoryInfo(dir).EnumerateFiles("*" + TemporaryMarker + "*"))
        {
            string name = file.Name;
            string pid = name[(name.LastIndexOf(TemporaryMarker, StringComparison.Ordinal) + TemporaryMarker.Length)..];
            if (int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out int id) && !IsRunning(id))
            {
                long bytes = file.Length;
                file.Delete();
                removed.Add((file.FullName, bytes, id));
            }
        }

        return removed;
    }

    private static bool IsRunning(int processId)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false; // no such process
        }
        catch (InvalidOperationException)
        {
            return false;
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
