namespace SharpGpt.Data;

/// <summary>The content of tokenizer.json: {"type":"gpt2"} or {"type":"char","chars":"..."}.</summary>
internal sealed record TokenizerFile(string Type, string? Chars = null)
{
    public const string FileName = "tokenizer.json";

    public static TokenizerFile Read(string path) => DataJson.Read<TokenizerFile>(path);

    /// <summary>The same JSON as the file, for embedding in a checkpoint.</summary>
    public string ToJson() => System.Text.Json.JsonSerializer.Serialize(this, DataJson.Options);

    public static TokenizerFile FromJson(string json, string source)
    {
        try
        {
            return System.Text.Json.JsonSerializer.Deserialize<TokenizerFile>(json, DataJson.Options)
                ?? throw new SharpGptException(source, "empty tokenizer record.");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new SharpGptException(source, $"corrupt tokenizer record: {e.Message}", innerException: e);
        }
    }

    public static void Write(string path, TokenizerFile file) => DataJson.Write(path, file);

    public static TokenizerFile Of(GptTokenizer tokenizer) => tokenizer switch
    {
        CharTokenizer chars => new TokenizerFile(CharTokenizer.TypeName, chars.Chars),
        _ => new TokenizerFile(tokenizer.Name),
    };
}
