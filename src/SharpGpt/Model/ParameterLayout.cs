namespace SharpGpt.Model;

/// <summary>
/// Where each parameter tensor lives inside the one contiguous parameter buffer, in llm.c's order
/// (so a checkpoint is the buffer itself). Gradients and AdamW moments use the same layout.
/// Weights are stored [out, in] like PyTorch's nn.Linear.
/// </summary>
internal sealed class ParameterLayout
{
    public const int TensorCount = 16;

    /// <summary>The tensor names in llm.c checkpoint order.</summary>
    public static readonly string[] Names =
    [
        "wte", "wpe", "ln1w", "ln1b", "qkvw", "qkvb", "attprojw", "attprojb",
        "ln2w", "ln2b", "fcw", "fcb", "fcprojw", "fcprojb", "lnfw", "lnfb",
    ];

    public ParameterLayout(GptConfig config)
    {
        Config = config;
        // Checked: a shape GptConfig.Validate has not seen (a corrupt header) must fail, not wrap around.
        long vp = config.PaddedVocabSize, c = config.Channels, l = config.NumLayers, maxT = config.MaxSeqLen;
        Sizes = checked(
        [
            vp * c, maxT * c, l * c, l * c, l * 3 * c * c, l * 3 * c, l * c * c, l * c,
            l * c, l * c, l * 4 * c * c, l * 4 * c, l * c * 4 * c, l * c, c, c,
        ]);
        Offsets = new long[TensorCount];
        long offset = 0;
        for (int i = 0; i < TensorCount; i++)
        {
            Offsets[i] = offset;
            offset = checked(offset + Sizes[i]);
        }

        Total = offset;
    }

    public GptConfig Config { get; }

    public long[] Sizes { get; }

    public long[] Offsets { get; }

    /// <summary>Total number of floats, padded vocabulary rows included.</summary>
    public long Total { get; }

    /// <summary>Parameters that count for FLOPs and for reports: the padded vocabulary rows excluded.</summary>
    public long UnpaddedTotal => Total - (long)(Config.PaddedVocabSize - Config.VocabSize) * Config.Channels;

    /// <summary>Whether tensor i gets weight decay in the GPT-2 recipe (matrices and embeddings, not biases or LayerNorm).</summary>
    public static bool IsDecayed(int tensor) => tensor is 0 or 1 or 4 or 6 or 10 or 12;

    public int IndexOf(string name)
    {
        int i = Array.IndexOf(Names, name);
        return i >= 0 ? i : throw new ArgumentException($"No parameter tensor named '{name}'.");
    }
}
