using SharpGpt.Tests.Kernels;

namespace SharpGpt.Tests.Inference;

/// <summary>GptModels for the batch generator's and the server's tests: small, seeded, with attention and embeddings
/// scaled up so that a continuation depends on its whole prompt and its position (at GPT-2's init the attention is
/// nearly uniform and every prompt would continue alike, hiding a mix-up).</summary>
internal static class BatchTestModels
{
    /// <summary>A GPT-2-vocabulary model (its tokenizer: GPT-2's, with &lt;|endoftext|&gt;).</summary>
    public static GptModel Gpt2Vocabulary(int blockSize = 64, ulong seed = 3) =>
        Sharpened(GptModel.Create(new GptConfig(MaxSeqLen: blockSize, VocabSize: 50257, NumLayers: 2, NumHeads: 2, Channels: 32),
            GptTokenizer.Gpt2, Options(seed)));

    /// <summary>The characters of <see cref="CharacterText"/>: letters, digits, punctuation, space and newline, so
    /// the chat template's markers and typed messages are all in its vocabulary. Text and tokens are one to one.</summary>
    public static GptModel Characters(int blockSize = 128, ulong seed = 5) =>
        Sharpened(GptModel.Create(new GptConfig(MaxSeqLen: blockSize, VocabSize: CharacterTokenizer.VocabSize, NumLayers: 2, NumHeads: 2, Channels: 32),
            CharacterTokenizer, Options(seed)));

    public const string CharacterText = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;!?'-\n";

    public static GptTokenizer CharacterTokenizer { get; } = GptTokenizer.CreateCharacterLevel(CharacterText);

    private static GptModelOptions Options(ulong seed) => new() { Device = ComputeDevice.Cpu, Threads = 2, Seed = seed };

    private static GptModel Sharpened(GptModel model)
    {
        var network = model.Network;
        foreach (var (name, factor) in new[] { ("qkvw", 8f), ("wte", 10f), ("wpe", 10f) })
        {
            int i = network.Layout.IndexOf(name);
            foreach (ref float w in network.Parameters.Slice(network.Layout.Offsets[i], (int)network.Layout.Sizes[i]))
            {
                w *= factor;
            }
        }

        return model;
    }
}
