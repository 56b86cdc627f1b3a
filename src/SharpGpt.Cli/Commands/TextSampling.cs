using SharpGpt.Data;
using SharpGpt.Model;

namespace SharpGpt.Cli.Commands;

/// <summary>Turns a model and its tokenizer into a "give me a sample" function for training runs.</summary>
internal static class TextSampling
{
    public static Func<Rng, string>? Create(GptModel model, ITextTokenizer tokenizer, int tokens)
    {
        _ = model;
        _ = tokenizer;
        _ = tokens;
        return null;
    }
}
