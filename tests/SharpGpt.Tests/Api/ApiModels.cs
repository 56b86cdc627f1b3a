namespace SharpGpt.Tests.Api;

/// <summary>Small models for the public API's tests, made the way a user makes them.</summary>
internal static class ApiModels
{
    /// <summary>Text for a character vocabulary: letters, digits, punctuation and a newline.</summary>
    public const string Alphabet = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,:;!?'\n";

    public static GptModelOptions Cpu(ulong seed = 1337) => new() { Device = ComputeDevice.Cpu, Threads = 2, Seed = seed };

    /// <summary>A random character-level model: 2 layers, 32 channels, a block of 32.</summary>
    public static GptModel Characters(ulong seed = 1337)
    {
        var tokenizer = GptTokenizer.CreateCharacterLevel(Alphabet);
        return GptModel.Create(new GptConfig(32, tokenizer.VocabSize, 2, 2, 32), tokenizer, Cpu(seed));
    }

    /// <summary>A random model with GPT-2's vocabulary and tokenizer: 1 layer, 16 channels, a block of 48.</summary>
    public static GptModel Gpt2Vocabulary(ulong seed = 1337) =>
        GptModel.Create(new GptConfig(48, 50257, 1, 2, 16), GptTokenizer.Gpt2, Cpu(seed));
}
