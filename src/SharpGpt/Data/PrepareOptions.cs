namespace SharpGpt.Data;

/// <summary>How <see cref="DataPreparer"/> tokenizes and splits its input.</summary>
internal sealed record PrepareOptions
{
    /// <summary>"gpt2" or "char".</summary>
    public string Tokenizer { get; init; } = Gpt2Tokenizer.TypeName;

    /// <summary>Share of the data held out for validation, in [0, 1); unused when <see cref="ValTokens"/> is set.</summary>
    public double ValFraction { get; init; } = 0.1;

    /// <summary>When set, the validation split is the first this many tokens of the input (build-nanogpt's first
    /// shard), cut where it falls, and <see cref="ValFraction"/> is not used.</summary>
    public long? ValTokens { get; init; }

    /// <summary>Most tokens in one shard file.</summary>
    public int ShardTokens { get; init; } = 100_000_000;

    /// <summary>The JSONL field or Parquet column that holds each document's text.</summary>
    public string TextColumn { get; init; } = "text";

    /// <summary>Threads that tokenize; 0 = one per core.</summary>
    public int Threads { get; init; }

    /// <summary>Characters per piece of a .txt file; small in tests, so that pieces are cut in many places.</summary>
    internal int TextPieceChars { get; init; } = TextFilePiece.DefaultChars;

    public int ResolvedThreads => Threads > 0 ? Threads : Environment.ProcessorCount;

    public void Validate()
    {
        if (!(ValFraction >= 0 && ValFraction < 1))
        {
            throw new SharpGptException("--val-fraction", $"must be in [0, 1), got {ValFraction}.");
        }

        if (ValTokens is <= 0)
        {
            throw new SharpGptException("--val-tokens", $"must be positive, got {ValTokens}.");
        }

        if (ShardTokens <= 0)
        {
            throw new SharpGptException("--shard-tokens", $"must be positive, got {ShardTokens}.");
        }

        if (string.IsNullOrEmpty(TextColumn))
        {
            throw new SharpGptException("--text-column", "must name a field or column.");
        }

        if (TextPieceChars < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(TextPieceChars), TextPieceChars, "A text piece holds at least one character.");
        }

        if (Threads < 0)
        {
            throw new SharpGptException("--threads", $"must be positive (or 0 for one per core), got {Threads}.");
        }

        if (!TokenizerFactory.Names.Contains(Tokenizer))
        {
            throw new SharpGptException("--tokenizer", $"unknown tokenizer '{Tokenizer}'; known: {string.Join(", ", TokenizerFactory.Names)}.");
        }
    }
}
