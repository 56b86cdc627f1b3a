namespace SharpGpt.Data;

/// <summary>The content of tokenizer.json: {"type":"gpt2"} or {"type":"char","chars":"..."}.</summary>
public sealed record TokenizerFile(string Type, string? Chars = null)
{
    public const string FileName = "tokenizer.json";

    public static TokenizerFile Read(string path) => DataJson.Read<TokenizerFile>(path);

    public static void Write(string path, TokenizerFile file) => DataJson.Write(path, file);

    public static TokenizerFile Of(ITextTokenizer tokenizer) => tokenizer switch
    {
        CharTokenizer chars => new TokenizerFile(CharTokenizer.TypeName, chars.Chars),
        _ => new TokenizerFile(tokenizer.Name),
    };
}
