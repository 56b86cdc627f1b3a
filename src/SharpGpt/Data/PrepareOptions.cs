namespace SharpGpt.Data;

/// <summary>How <see cref="DataPreparer"/> tokenizes and splits its input.</summary>
public sealed record PrepareOptions
{
    /// <summary>"gpt2" or "char".</summary>
    public string Tokenizer { get; init; } = Gpt2Tokenizer.TypeName;

    /// <summary>Share of the data held out for validation, in [0, 1).</summary>
    public double ValFraction { get; init; } = 0.1;

    /// <summary>Most tokens in one shard file.</summary>
    public int ShardTokens { get; init; } = 100_000_000;

    public void Validate()
    {
        if (!(ValFraction >= 0 && ValFraction < 1))
        {
            throw new UserErrorException("--val-fraction", $"must be in [0, 1), got {ValFraction}.");
        }

        if (ShardTokens <= 0)
        {
            throw new UserErrorException("--shard-tokens", $"must be positive, got {ShardTokens}.");
        }

        if (!TokenizerFactory.Names.Contains(Tokenizer))
        {
            throw new UserErrorException("--tokenizer", $"unknown tokenizer '{Tokenizer}'; known: {string.Join(", ", TokenizerFactory.Names)}.");
        }
    }
}
