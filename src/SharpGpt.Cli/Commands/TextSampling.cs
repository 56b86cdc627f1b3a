using SharpGpt.Data;
using SharpGpt.Inference;
using SharpGpt.Model;

namespace SharpGpt.Cli.Commands;

/// <summary>Turns a model and its tokenizer into a "give me a sample" function for training runs.</summary>
internal static class TextSampling
{
    public static Func<Rng, string>? Create(GptNetwork model, GptTokenizer tokenizer, int tokens)
    {
        if (tokens <= 0 || tokenizer.VocabSize > model.Config.VocabSize)
        {
            return null;
        }

        int start = StartToken(tokenizer);
        return rng =>
        {
            using var decoder = new KvCacheDecoder(model);
            var sampler = new Sampler(decoder, new SamplingOptions(TopK: 50, Temperature: 1f, Seed: rng.NextUInt64()));
            // A model whose vocabulary is larger than the tokenizer's (e.g. --init-from a GPT-2) can
            // sample ids the tokenizer has no text for; they are left out of the text.
            int[] ids = [.. sampler.Generate([start], tokens).Where(id => id < tokenizer.VocabSize)];
            return tokenizer.Decode(ids);
        };
    }

    /// <summary>The token an unconditional sample starts from: the end-of-text token (GPT-2), else a
    /// newline when the vocabulary has one (as nanoGPT's character samples do), else its first symbol.</summary>
    public static int StartToken(GptTokenizer tokenizer)
    {
        if (tokenizer.EndOfTextToken is int eot)
        {
            return eot;
        }

        try
        {
            return tokenizer.Encode("\n")[0];
        }
        catch (ArgumentException)
        {
            return 0;
        }
    }
}
