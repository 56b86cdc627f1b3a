using System.Text;
using System.Text.Json;

namespace SharpGpt.Data;

/// <summary>Character-level tokenizer as in nanoGPT's shakespeare_char: one id per distinct character (Unicode scalar
/// value) of the training text, ids in code-point order. It has no end-of-text token.</summary>
internal sealed class CharTokenizer : GptTokenizer
{
    public const string TypeName = "char";

    private const int NotInVocab = -1;

    private readonly string[] _idToText;
    private readonly int[] _bmpToId;                     // fast path: every char outside the surrogate range
    private readonly Dictionary<int, int> _supplementaryToId = []; // code points above U+FFFF (emoji and such)

    /// <summary>Creates the tokenizer for a vocabulary given as its characters, ids in the given order.</summary>
    public CharTokenizer(string chars)
    {
        ArgumentNullException.ThrowIfNull(chars);
        var runes = new List<Rune>();
        for (var i = 0; i < chars.Length;)
        {
            var rune = ReadRune(chars, i, "vocabulary");
            runes.Add(rune);
            i += rune.Utf16SequenceLength;
        }

        if (runes.Count == 0)
        {
            throw new ArgumentException("A character vocabulary needs at least one character.", nameof(chars));
        }

        Chars = chars;
        _idToText = new string[runes.Count];
        _bmpToId = new int[char.MaxValue + 1];
        Array.Fill(_bmpToId, NotInVocab);
        for (var id = 0; id < runes.Count; id++)
        {
            var rune = runes[id];
            if (Lookup(rune) != NotInVocab)
            {
                throw new ArgumentException($"The character vocabulary lists {Describe(rune)} twice.", nameof(chars));
            }

            _idToText[id] = rune.ToString();
            if (rune.IsBmp)
            {
                _bmpToId[rune.Value] = id;
            }
            else
            {
                _supplementaryToId[rune.Value] = id;
            }
        }
    }

    /// <summary>The vocabulary, character i having id i.</summary>
    public string Chars { get; }

    public override string Name => TypeName;

    public override int VocabSize => _idToText.Length;

    public override int? EndOfTextToken => null;

    /// <summary>The vocabulary of a training text: its sorted distinct characters.</summary>
    public static CharTokenizer FromText(string text) => FromTexts([text]);

    /// <summary>The vocabulary of several documents together.</summary>
    public static CharTokenizer FromTexts(IEnumerable<string> texts)
    {
        var seen = new SortedSet<int>();
        var bmpSeen = new bool[char.MaxValue + 1];
        foreach (var text in texts)
        {
            for (var i = 0; i < text.Length;)
            {
                var c = text[i];
                if (!char.IsSurrogate(c))
                {
                    bmpSeen[c] = true;
                    i++;
                    continue;
                }

                var rune = ReadRune(text, i, "text");
                seen.Add(rune.Value);
                i += rune.Utf16SequenceLength;
            }
        }

        for (var c = 0; c < bmpSeen.Length; c++)
        {
            if (bmpSeen[c])
            {
                seen.Add(c);
            }
        }

        if (seen.Count == 0)
        {
            throw new ArgumentException("Cannot build a character vocabulary from empty text.", nameof(texts));
        }

        var chars = new StringBuilder(seen.Count);
        foreach (var codePoint in seen)
        {
            chars.Append(new Rune(codePoint).ToString());
        }

        return new CharTokenizer(chars.ToString());
    }

    public override int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new int[text.Length]; // one id per char at most; fewer when surrogate pairs occur
        var count = EncodeInto(text, ids);
        return count == ids.Length ? ids : ids[..count];
    }

    /// <summary>Writes the ids of <paramref name="text"/> to <paramref name="ids"/>, which must hold one per
    /// char; returns how many there are.</summary>
    internal int EncodeInto(ReadOnlySpan<char> text, Span<int> ids)
    {
        var count = 0;
        for (var i = 0; i < text.Length;)
        {
            var c = text[i];
            int id;
            int width;
            if (!char.IsSurrogate(c))
            {
                id = _bmpToId[c];
                width = 1;
            }
            else
            {
                var rune = ReadRune(text, i, "text");
                id = Lookup(rune);
                width = rune.Utf16SequenceLength;
            }

            if (id == NotInVocab)
            {
                var rune = ReadRune(text, i, "text");
                throw new ArgumentException($"Character {Describe(rune)} at position {i} is not in this tokenizer's vocabulary of {VocabSize} characters.", nameof(text));
            }

            ids[count++] = id;
            i += width;
        }

        return count;
    }

    public override string Decode(ReadOnlySpan<int> tokens)
    {
        var text = new StringBuilder(tokens.Length);
        for (var i = 0; i < tokens.Length; i++)
        {
            var id = tokens[i];
            if ((uint)id >= (uint)_idToText.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(tokens), $"token {id} at position {i} is outside the character vocabulary (0..{VocabSize - 1}).");
            }

            text.Append(_idToText[id]);
        }

        return text.ToString();
    }

    /// <summary>Writes {"type":"char","chars":"..."}, the file the tokenizer is loaded back from.</summary>
    public void Save(string path) => TokenizerFile.Write(path, new TokenizerFile(TypeName, Chars));

    /// <summary>Loads a tokenizer.json written by <see cref="Save"/>.</summary>
    public static CharTokenizer Load(string path) => TokenizerFactory.Load(path) as CharTokenizer
        ?? throw new SharpGptException(path, "not a character tokenizer.");

    private int Lookup(Rune rune) => rune.IsBmp ? _bmpToId[rune.Value] : _supplementaryToId.GetValueOrDefault(rune.Value, NotInVocab);

    private static Rune ReadRune(ReadOnlySpan<char> text, int index, string what)
    {
        if (Rune.DecodeFromUtf16(text[index..], out var rune, out _) != System.Buffers.OperationStatus.Done)
        {
            throw new ArgumentException($"The {what} holds an unpaired surrogate (U+{(int)text[index]:X4}) at position {index}; it is not valid UTF-16.");
        }

        return rune;
    }

    private static string Describe(Rune rune) =>
        Rune.IsControl(rune) || Rune.IsWhiteSpace(rune) ? $"U+{rune.Value:X4}" : $"'{rune}' (U+{rune.Value:X4})";
}
