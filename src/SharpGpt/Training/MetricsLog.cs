using System.Text.Json;

namespace SharpGpt.Training;

/// <summary>Appends one JSON object per optimizer step to metrics.jsonl.</summary>
internal sealed class MetricsLog : IDisposable
{
    private readonly StreamWriter _writer;

    /// <summary>The file's name in a run's output folder.</summary>
    public const string FileName = "metrics.jsonl";

    /// <param name="path">The file.</param>
    /// <param name="keepUpToStep">On resume: records after this step (written after the checkpoint) are dropped.</param>
    public MetricsLog(string path, int? keepUpToStep)
    {
        Path = path;
        if (keepUpToStep is int last && File.Exists(path))
        {
            var kept = Read(path).Where(r => r.Step <= last).Select(r => JsonSerializer.Serialize(r)).ToList();
            File.WriteAllLines(path, kept);
        }
        else if (keepUpToStep is null && File.Exists(path))
        {
            File.Delete(path);
        }

        _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
    }

    public string Path { get; }

    public void Append(MetricsRecord record) => _writer.WriteLine(JsonSerializer.Serialize(record));

    public static List<MetricsRecord> Read(string path)
    {
        var records = new List<MetricsRecord>();
        int line = 0;
        foreach (string text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            try
            {
                records.Add(JsonSerializer.Deserialize<MetricsRecord>(text) ?? throw new JsonException("null record"));
            }
            catch (JsonException e)
            {
                throw new SharpGptException($"{path}:{line}", $"not a metrics record: {e.Message}", innerException: e);
            }
        }

        return records;
    }

    public void Dispose() => _writer.Dispose();
}
