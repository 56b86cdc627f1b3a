namespace SharpGpt.Model;

/// <summary>The shape of a GPT-2 model. The vocabulary is padded to a multiple of 128 for speed;
/// padded rows never take part in the softmax or the loss.</summary>
public sealed record GptConfig(int MaxSeqLen, int VocabSize, int NumLayers, int NumHeads, int Channels)
{
    public const int VocabPadding = 128;

    public int PaddedVocabSize => (VocabSize + VocabPadding - 1) / VocabPadding * VocabPadding;

    public int HeadSize => Channels / NumHeads;

    // Far beyond any GPT-2 (1024, 50257, 48 layers, 1600 channels), and small enough that every size and
    // offset of the parameters (at most 12 L C^2 + (V + T) C floats, under 2^48) fits a long.
    public const int BlockSizeLimit = 1 << 24;
    public const int VocabSizeLimit = 1 << 24;
    public const int LayersLimit = 1 << 12;
    public const int ChannelsLimit = 1 << 16;

    /// <summary>Throws naming the offending field when the shape cannot form a model, for example when a
    /// corrupt header gives a size whose parameter count would overflow.</summary>
    public void Validate(string source = "config")
    {
        Require("block_size (max sequence length)", MaxSeqLen, BlockSizeLimit, source);
        Require("vocab_size", VocabSize, VocabSizeLimit, source);
        Require("n_layer", NumLayers, LayersLimit, source);
        Require("n_embd", Channels, ChannelsLimit, source);
        Require("n_head", NumHeads, Channels, source);
        if (Channels % NumHeads != 0)
        {
            throw new UserErrorException(source, $"n_embd ({Channels}) is not divisible by n_head ({NumHeads}).");
        }
    }

    private static void Require(string field, int value, int max, string source)
    {
        if (value <= 0)
        {
            throw new UserErrorException(source, $"{field} must be positive, got {value}.");
        }

        if (value > max)
        {
            throw new UserErrorException(source, $"{field} is {value}, out of range (at most {max}).");
        }
    }

    public static GptConfig Gpt2Small => new(1024, 50257, 12, 12, 768);

    /// <summary>Named model sizes: the four GPT-2 releases.</summary>
    public static GptConfig FromPreset(string name) => name.ToLowerInvariant() switch
    {
        "gpt2" or "gpt2-124m" or "d12" => new(1024, 50257, 12, 12, 768),
        "gpt2-medium" or "gpt2-350m" or "d24" => new(1024, 50257, 24, 16, 1024),
        "gpt2-large" or "gpt2-774m" or "d36" => new(1024, 50257, 36, 20, 1280),
        "gpt2-xl" or "gpt2-1558m" or "d48" => new(1024, 50257, 48, 25, 1600),
        _ => throw new UserErrorException("--preset", $"unknown preset '{name}'; known: gpt2-124m, gpt2-350m, gpt2-774m, gpt2-1558m."),
    };
}
