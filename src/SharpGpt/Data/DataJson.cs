using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace SharpGpt.Data;

/// <summary>One JSON style for the small files prepare writes: snake_case keys, indented for people to read.</summary>
internal static class DataJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // These files are never embedded in HTML; keep ' and & readable in a char vocabulary.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static T Read<T>(string path)
    {
        if (!File.Exists(path))
        {
            throw new SharpGptException(path, "file not found.");
        }

        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllText(path), Options)
                ?? throw new SharpGptException(path, "the file holds JSON null.");
        }
        catch (JsonException e)
        {
            throw new SharpGptException(path, $"not valid JSON for {typeof(T).Name}: {e.Message}", innerException: e);
        }
    }

    /// <summary>Writes through a temp file and a rename so a reader never sees half a file.</summary>
    public static void Write<T>(string path, T value)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(value, Options) + "\n");
        File.Move(temp, path, overwrite: true);
    }
}
