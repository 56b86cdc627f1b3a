namespace SharpGpt.Data;

/// <summary>Finds the tokenizer by its type name or by the files that prepare wrote.</summary>
internal static class TokenizerFactory
{
    public static readonly IReadOnlyList<string> Names = [Gpt2Tokenizer.TypeName, CharTokenizer.TypeName];

    /// <summary>A new tokenizer of the named type; "char" builds its vocabulary from <paramref name="trainingText"/>.</summary>
    public static GptTokenizer Create(string name, string? trainingText = null) => name.ToLowerInvariant() switch
    {
        Gpt2Tokenizer.TypeName => new Gpt2Tokenizer(),
        CharTokenizer.TypeName => CharTokenizer.FromText(trainingText
            ?? throw new ArgumentException("The char tokenizer needs the training text to build its vocabulary.", nameof(trainingText))),
        _ => throw new ArgumentException($"Unknown tokenizer '{name}'. Known: {string.Join(", ", Names)}.", nameof(name)),
    };

    /// <summary>Loads a tokenizer.json file.</summary>
    public static GptTokenizer Load(string path) => FromFile(TokenizerFile.Read(path), path);

    /// <summary>The tokenizer a <see cref="TokenizerFile"/> describes; <paramref name="source"/> names it in errors.</summary>
    public static GptTokenizer FromFile(TokenizerFile file, string source) => file.Type switch
    {
        Gpt2Tokenizer.TypeName => new Gpt2Tokenizer(),
        CharTokenizer.TypeName when !string.IsNullOrEmpty(file.Chars) => new CharTokenizer(file.Chars),
        CharTokenizer.TypeName => throw new SharpGptException(source, "a char tokenizer needs a non-empty \"chars\" field."),
        _ => throw new SharpGptException(source, $"unknown tokenizer type '{file.Type}'. Known: {string.Join(", ", Names)}."),
    };

    /// <summary>The tokenizer of a directory made by prepare: its tokenizer.json, else the "tokenizer" of meta.json.</summary>
    public static GptTokenizer LoadForDataDir(string dataDir)
    {
        if (!Directory.Exists(dataDir))
        {
            throw new SharpGptException(dataDir, File.Exists(dataDir) ? "a file, not a prepared data folder" : "data folder not found", "prepare one with 'sharpgpt prepare'.");
        }

        var tokenizerPath = Path.Combine(dataDir, TokenizerFile.FileName);
        if (File.Exists(tokenizerPath))
        {
            return Load(tokenizerPath);
        }

        var metaPath = Path.Combine(dataDir, PreparedDataMeta.FileName);
        if (!File.Exists(metaPath))
        {
            throw new SharpGptException(dataDir, $"not a prepared data folder: neither {TokenizerFile.FileName} nor {PreparedDataMeta.FileName} is there", "prepare one with 'sharpgpt prepare'.");
        }

        var meta = PreparedDataMeta.Read(dataDir);
        return meta.Tokenizer == Gpt2Tokenizer.TypeName
            ? new Gpt2Tokenizer()
            : throw new SharpGptException(metaPath, $"tokenizer '{meta.Tokenizer}' needs {TokenizerFile.FileName}, which is missing.");
    }
}
