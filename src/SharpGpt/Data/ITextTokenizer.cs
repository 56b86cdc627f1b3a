namespace SharpGpt.Data;

/// <summary>Turns text into token ids and back. Implementations are immutable and thread-safe.</summary>
public interface ITextTokenizer
{
    /// <summary>Short type name as written to tokenizer.json and meta.json: "gpt2" or "char".</summary>
    string Name { get; }

    /// <summary>Number of distinct token ids; every id is in [0, VocabSize).</summary>
    int VocabSize { get; }

    /// <summary>The id that separates documents, or null when the tokenizer has none.</summary>
    int? EndOfTextToken { get; }

    /// <summary>Encodes text as ordinary text: special-token spellings inside it are never special.</summary>
    int[] Encode(string text);

    /// <summary>Decodes ids back to text; throws on an id outside [0, VocabSize).</summary>
    string Decode(ReadOnlySpan<int> tokens);
}
