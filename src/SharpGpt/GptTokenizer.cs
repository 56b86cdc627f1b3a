using SharpGpt.Data;

namespace SharpGpt;

/// <summary>
/// Turns text into token ids and back. Two kinds exist: GPT-2's byte-level BPE (<see cref="Gpt2"/>) and a
/// character-level tokenizer with one id per distinct character of a training text
/// (<see cref="CreateCharacterLevel"/>). Instances are immutable and safe to use from several threads.
/// </summary>
public abstract class GptTokenizer
{
    private protected GptTokenizer()
    {
    }

    /// <summary>GPT-2's byte-level BPE: 50,257 tokens, id 50256 being &lt;|endoftext|&gt;. Its ids equal tiktoken's
    /// <c>encode_ordinary</c> for the "gpt2" encoding. The vocabulary ships in the package, so it works offline.</summary>
    public static GptTokenizer Gpt2 => Gpt2Tokenizer.Shared;

    /// <summary>A character-level tokenizer as in nanoGPT's shakespeare_char: one id per distinct character
    /// (Unicode scalar value) of <paramref name="trainingText"/>, ids in code-point order. It has no end-of-text token.</summary>
    /// <param name="trainingText">The text whose characters form the vocabulary.</param>
    /// <exception cref="ArgumentException"><paramref name="trainingText"/> is empty or holds an unpaired surrogate.</exception>
    public static GptTokenizer CreateCharacterLevel(string trainingText)
    {
        ArgumentException.ThrowIfNullOrEmpty(trainingText);
        return CharTokenizer.FromText(trainingText);
    }

    /// <summary>The tokenizer's kind as files name it: "gpt2" or "char".</summary>
    public abstract string Name { get; }

    /// <summary>The number of distinct token ids; every id is in [0, <see cref="VocabSize"/>).</summary>
    public abstract int VocabSize { get; }

    /// <summary>The id that separates documents (GPT-2's &lt;|endoftext|&gt;), or null when there is none.</summary>
    public abstract int? EndOfTextToken { get; }

    /// <summary>Encodes text as ordinary text: the spelling of a special token inside it is never special.</summary>
    /// <param name="text">The text to encode.</param>
    /// <returns>The token ids.</returns>
    /// <exception cref="ArgumentException">The text holds a character the vocabulary lacks (character-level only).</exception>
    public abstract int[] Encode(string text);

    /// <summary>Decodes token ids back to text. A byte-level token sequence that ends inside a UTF-8 character
    /// decodes that character as U+FFFD.</summary>
    /// <param name="tokens">The ids to decode.</param>
    /// <returns>The text.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside [0, <see cref="VocabSize"/>).</exception>
    public abstract string Decode(ReadOnlySpan<int> tokens);
}
