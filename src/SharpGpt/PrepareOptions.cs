using SharpGpt.Data;

namespace SharpGpt;

/// <summary>How <see cref="DataPreparer"/> tokenizes and splits its input.</summary>
public sealed record PrepareOptions
{
    /// <summary>The tokenizer; <see cref="TokenizerKind.Gpt2"/> by default.</summary>
    public TokenizerKind Tokenizer { get; init; }

    /// <summary>The share held out for validation, in [0, 1): the last part of a single .txt file, otherwise every
    /// (1/f)-th document, the first included. 0.1 by default; unused when <see cref="ValidationTokens"/> is set.</summary>
    public double ValidationFraction { get; init; } = 0.1;

    /// <summary>When set, the validation split is the first this many tokens of the input (build-nanogpt's first
    /// shard of FineWeb-Edu), cut where it falls, and <see cref="ValidationFraction"/> is not used.</summary>
    public long? ValidationTokens { get; init; }

    /// <summary>The most tokens in one shard file; 100M by default.</summary>
    public int ShardTokens { get; init; } = 100_000_000;

    /// <summary>What the records hold: documents, prompt/completion pairs or conversations; <see cref="DataFormat.Auto"/>,
    /// the default, decides from the first record. Pairs and conversations are written with
    /// <see cref="ChatTemplate.Transcript"/> and a loss mask, so training learns the answers only.</summary>
    public DataFormat Format { get; init; }

    /// <summary>The JSONL field or Parquet column that holds each document's text (<see cref="DataFormat.Text"/>); "text" by default.</summary>
    public string TextColumn { get; init; } = "text";

    /// <summary>Threads that tokenize; 0, the default, uses one per core.</summary>
    public int Threads { get; init; }

    /// <summary>Characters per piece of a .txt file; small in tests, so that pieces are cut in many places.</summary>
    internal int TextPieceChars { get; init; } = TextFilePiece.DefaultChars;

    internal int ResolvedThreads => Threads > 0 ? Threads : Environment.ProcessorCount;

    internal string TokenizerName => Tokenizer == TokenizerKind.Character ? CharTokenizer.TypeName : Gpt2Tokenizer.TypeName;

    internal void Validate()
    {
        if (!Enum.IsDefined(Tokenizer))
        {
            throw new ArgumentOutOfRangeException(nameof(Tokenizer), Tokenizer, "Not a tokenizer.");
        }

        if (!Enum.IsDefined(Format))
        {
            throw new ArgumentOutOfRangeException(nameof(Format), Format, "Not a data format.");
        }

        if (!(ValidationFraction >= 0 && ValidationFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(ValidationFraction), ValidationFraction, "ValidationFraction must be in [0, 1).");
        }

        if (ValidationTokens is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ValidationTokens), ValidationTokens, "ValidationTokens must be positive.");
        }

        if (ShardTokens <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ShardTokens), ShardTokens, "ShardTokens must be positive.");
        }

        if (string.IsNullOrEmpty(TextColumn))
        {
            throw new ArgumentException("TextColumn must name a field or column.", nameof(TextColumn));
        }

        if (TextPieceChars < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(TextPieceChars), TextPieceChars, "A text piece holds at least one character.");
        }

        if (Threads < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "Threads must be positive, or 0 for one per core.");
        }
    }
}
