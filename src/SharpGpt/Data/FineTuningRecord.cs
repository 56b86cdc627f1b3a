using System.Text.Json;

namespace SharpGpt.Data;

/// <summary>A JSONL line of fine-tuning data: <c>{"prompt": ..., "completion": ...}</c> or
/// <c>{"messages": [{"role": ..., "content": ...}, ...]}</c>. A line that does not fit its format throws naming the
/// file and the line.</summary>
internal static class FineTuningRecord
{
    /// <summary>The example of one line; null for a blank line.</summary>
    public static ChatExample? Parse(ReadOnlySpan<byte> line, DataFormat format, string path, long lineNumber)
    {
        if (line.Trim(" \t\r"u8).IsEmpty)
        {
            return null;
        }

        string where = $"{path}:{lineNumber}";
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line.ToArray());
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{where}: not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{where}: expected a JSON object with {Expected(format)} (Format {Name(format)}).");
            }

            return format == DataFormat.Chat ? Chat(root, where) : PromptCompletion(root, where);
        }
    }

    /// <summary>The format a record's fields say: messages, prompt and completion, or text.</summary>
    public static DataFormat Detect(JsonElement record) =>
        record.ValueKind != JsonValueKind.Object ? DataFormat.Text
        : record.TryGetProperty("messages", out _) ? DataFormat.Chat
        : record.TryGetProperty("prompt", out _) && record.TryGetProperty("completion", out _) ? DataFormat.PromptCompletion
        : DataFormat.Text;

    /// <summary>The name of a format as the Format option and --format spell it.</summary>
    public static string Name(DataFormat format) => format switch
    {
        DataFormat.PromptCompletion => "prompt-completion",
        _ => format.ToString().ToLowerInvariant(),
    };

    private static string Expected(DataFormat format) => format == DataFormat.Chat
        ? "a \"messages\" array of {\"role\", \"content\"} objects"
        : "string \"prompt\" and \"completion\" fields";

    private static ChatExample PromptCompletion(JsonElement root, string where) =>
        ChatExample.FromPromptCompletion(String(root, "prompt", where), String(root, "completion", where));

    private static string String(JsonElement root, string name, string where)
    {
        if (!root.TryGetProperty(name, out var value))
        {
            throw new InvalidDataException($"{where}: no \"{name}\" field; a prompt-completion record has string \"prompt\" and \"completion\" fields.");
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString()!
            : throw new InvalidDataException($"{where}: \"{name}\" is {Kind(value)}, not a string.");
    }

    private static ChatExample Chat(JsonElement root, string where)
    {
        if (!root.TryGetProperty("messages", out var messages))
        {
            throw new InvalidDataException($"{where}: no \"messages\" field; a chat record is {{\"messages\": [{{\"role\": ..., \"content\": ...}}, ...]}}.");
        }

        if (messages.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException($"{where}: \"messages\" is {Kind(messages)}, not an array of {{\"role\", \"content\"}} objects.");
        }

        var read = new List<(string?, string?)>();
        int i = 0;
        foreach (var message in messages.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{where}: message {i} is {Kind(message)}, not an object with \"role\" and \"content\".");
            }

            read.Add((Field(message, "role", i, where), Field(message, "content", i, where)));
            i++;
        }

        return ChatExample.FromMessages(read, where);
    }

    // A string field of a message; null when missing or null (FromMessages says which), anything else throws.
    private static string? Field(JsonElement message, string name, int index, string where) =>
        !message.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : throw new InvalidDataException($"{where}: message {index}: \"{name}\" is {Kind(value)}, not a string.");

    private static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
