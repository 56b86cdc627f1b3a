namespace SharpGpt;

/// <summary>
/// The shape of a GPT-2 model, in nanoGPT's terms: block size, vocabulary, layers, heads and embedding width.
/// The four GPT-2 releases are <see cref="Gpt2Small"/>, <see cref="Gpt2Medium"/>, <see cref="Gpt2Large"/> and
/// <see cref="Gpt2XL"/>; <see cref="FromPreset"/> finds them by name.
/// </summary>
/// <param name="MaxSeqLen">The block size: the longest sequence the model reads (GPT-2: 1024).</param>
/// <param name="VocabSize">The number of token ids (GPT-2: 50,257).</param>
/// <param name="NumLayers">Transformer blocks (GPT-2 small: 12).</param>
/// <param name="NumHeads">Attention heads per block; must divide <paramref name="Channels"/>.</param>
/// <param name="Channels">The embedding width (GPT-2 small: 768).</param>
public sealed record GptConfig(int MaxSeqLen, int VocabSize, int NumLayers, int NumHeads, int Channels)
{
    // The vocabulary is padded to a multiple of 128 for speed (llm.c's padded_vocab_size); padded rows never
    // take part in the softmax or the loss.
    internal const int VocabPadding = 128;

    // Far beyond any GPT-2 (1024, 50257, 48 layers, 1600 channels), and small enough that every size and
    // offset of the parameters (at most 12 L C^2 + (V + T) C floats, under 2^48) fits a long.
    internal const int BlockSizeLimit = 1 << 24;
    internal const int VocabSizeLimit = 1 << 24;
    internal const int LayersLimit = 1 << 12;
    internal const int ChannelsLimit = 1 << 16;

    internal int PaddedVocabSize => (VocabSize + VocabPadding - 1) / VocabPadding * VocabPadding;

    /// <summary>The width of one attention head: <see cref="Channels"/> / <see cref="NumHeads"/>.</summary>
    public int HeadSize => Channels / NumHeads;

    /// <summary>The number of weights, as GPT-2's "124M" counts them (the lm_head is tied to the token embedding).</summary>
    public long ParameterCount => new Model.ParameterLayout(this).UnpaddedTotal;

    /// <summary>GPT-2 small, "124M": 12 layers, 12 heads, 768 channels.</summary>
    public static GptConfig Gpt2Small => new(1024, 50257, 12, 12, 768);

    /// <summary>GPT-2 medium, "350M": 24 layers, 16 heads, 1024 channels.</summary>
    public static GptConfig Gpt2Medium => new(1024, 50257, 24, 16, 1024);

    /// <summary>GPT-2 large, "774M": 36 layers, 20 heads, 1280 channels.</summary>
    public static GptConfig Gpt2Large => new(1024, 50257, 36, 20, 1280);

    /// <summary>GPT-2 XL, "1558M": 48 layers, 25 heads, 1600 channels.</summary>
    public static GptConfig Gpt2XL => new(1024, 50257, 48, 25, 1600);

    /// <summary>The names <see cref="FromPreset"/> takes.</summary>
    public static IReadOnlyList<string> PresetNames { get; } = ["gpt2-124m", "gpt2-350m", "gpt2-774m", "gpt2-1558m"];

    /// <summary>A GPT-2 release by name: gpt2-124m (also gpt2, d12), gpt2-350m (gpt2-medium, d24),
    /// gpt2-774m (gpt2-large, d36) or gpt2-1558m (gpt2-xl, d48).</summary>
    /// <param name="name">The preset's name, in any case.</param>
    /// <returns>The configuration.</returns>
    /// <exception cref="ArgumentException">The name is none of these.</exception>
    public static GptConfig FromPreset(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return name.ToLowerInvariant() switch
        {
            "gpt2" or "gpt2-124m" or "d12" => Gpt2Small,
            "gpt2-medium" or "gpt2-350m" or "d24" => Gpt2Medium,
            "gpt2-large" or "gpt2-774m" or "d36" => Gpt2Large,
            "gpt2-xl" or "gpt2-1558m" or "d48" => Gpt2XL,
            _ => throw new ArgumentException($"Unknown preset '{name}'; known: {string.Join(", ", PresetNames)}.", nameof(name)),
        };
    }

    /// <summary>Throws naming the offending field when the shape cannot form a model, for example when a
    /// corrupt header gives a size whose parameter count would overflow.</summary>
    /// <param name="source">The file or the parameter the shape came from, which the error names.</param>
    internal void Validate(string source = "config")
    {
        Require("block_size (max sequence length)", MaxSeqLen, BlockSizeLimit, source);
        Require("vocab_size", VocabSize, VocabSizeLimit, source);
        Require("n_layer", NumLayers, LayersLimit, source);
        Require("n_embd", Channels, ChannelsLimit, source);
        Require("n_head", NumHeads, Channels, source);
        if (Channels % NumHeads != 0)
        {
            throw new SharpGptException(source, $"n_embd ({Channels}) is not divisible by n_head ({NumHeads}).");
        }
    }

    private static void Require(string field, int value, int max, string source)
    {
        if (value <= 0)
        {
            throw new SharpGptException(source, $"{field} must be positive, got {value}.");
        }

        if (value > max)
        {
            throw new SharpGptException(source, $"{field} is {value}, out of range (at most {max}).");
        }
    }
}
