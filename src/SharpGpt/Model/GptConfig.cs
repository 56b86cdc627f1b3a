namespace SharpGpt.Model;

/// <summary>The shape of a GPT-2 model. The vocabulary is padded to a multiple of 128 for speed;
/// padded rows never take part in the softmax or the loss.</summary>
public sealed record GptConfig(int MaxSeqLen, int VocabSize, int NumLayers, int NumHeads, int Channels)
{
    public const int VocabPadding = 128;

    public int PaddedVocabSize => (VocabSize + VocabPadding - 1) / VocabPadding * VocabPadding;

    public int HeadSize => Channels / NumHeads;

    /// <summary>Throws with the name of the offending field when the shape cannot form a model.</summary>
    public void Validate(string source = "config")
    {
        Require(MaxSeqLen > 0, source, "block_size (max sequence length) must be positive", MaxSeqLen);
        Require(VocabSize > 0, source, "vocab_size must be positive", VocabSize);
        Require(NumLayers > 0, source, "n_layer must be positive", NumLayers);
        Require(NumHeads > 0, source, "n_head must be positive", NumHeads);
        Require(Channels > 0, source, "n_embd must be positive", Channels);
        if (Channels % NumHeads != 0)
        {
            throw new InvalidDataException($"{source}: n_embd ({Channels}) is not divisible by n_head ({NumHeads}).");
        }
    }

    private static void Require(bool ok, string source, string what, int value)
    {
        if (!ok)
        {
            throw new InvalidDataException($"{source}: {what}, got {value}.");
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
        _ => throw new ArgumentException($"Unknown preset '{name}'. Known: gpt2-124m, gpt2-350m, gpt2-774m, gpt2-1558m."),
    };
}
