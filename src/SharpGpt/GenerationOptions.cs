namespace SharpGpt;

/// <summary>How <see cref="GptModel.Generate(string, GenerationOptions?, CancellationToken)"/> and its streaming
/// twin draw tokens. The defaults sample as nanoGPT's sample.py does: temperature 1, top-k 50.</summary>
public sealed record GenerationOptions
{
    /// <summary>The most tokens to generate; 256 by default.</summary>
    public int MaxTokens { get; init; } = 256;

    /// <summary>Divides the logits before the softmax; 0 picks the most likely token every time (greedy). 1 by default.</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>Draw only from the k most likely tokens; 0 keeps the whole vocabulary. 50 by default.</summary>
    public int TopK { get; init; } = 50;

    /// <summary>Nucleus sampling: draw only from the most likely tokens whose probabilities add up to at least this
    /// (after <see cref="TopK"/> and the temperature); 1, the default, keeps them all.</summary>
    public float TopP { get; init; } = 1f;

    /// <summary>Seeds the draws, so a seed always gives the same text; null, the default, draws a fresh seed.</summary>
    public ulong? Seed { get; init; }

    /// <summary>Text that ends the generation where it appears; the result stops before it. Empty by default.</summary>
    public IReadOnlyList<string> StopSequences { get; init; } = [];

    /// <summary>Whether the end-of-text token (GPT-2's &lt;|endoftext|&gt;) ends the generation; true by default.
    /// When false it is generated like any token and decodes as its spelling.</summary>
    public bool StopAtEndOfText { get; init; } = true;

    internal void Validate()
    {
        if (MaxTokens < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxTokens), MaxTokens, "MaxTokens must be >= 0.");
        }

        if (!(Temperature >= 0) || float.IsInfinity(Temperature))
        {
            throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "Temperature must be a finite number >= 0 (0 = greedy).");
        }

        if (TopK < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(TopK), TopK, "TopK must be >= 0 (0 = the whole vocabulary).");
        }

        if (!(TopP > 0 && TopP <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(TopP), TopP, "TopP must be in (0, 1].");
        }

        ArgumentNullException.ThrowIfNull(StopSequences);
        foreach (var stop in StopSequences)
        {
            if (string.IsNullOrEmpty(stop))
            {
                throw new ArgumentException("A stop sequence must not be empty.", nameof(StopSequences));
            }
        }
    }
}
