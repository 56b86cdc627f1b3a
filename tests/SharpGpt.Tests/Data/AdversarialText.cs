using System.Text;

namespace SharpGpt.Tests.Data;

/// <summary>Random text built to put a cut next to everything that could change a GPT-2 token: runs of every kind
/// of whitespace (spaces, tabs, \r\n, blank lines, no-break and ideographic spaces, line and paragraph separators,
/// NEL), letters, digits of several scripts, CJK, combining marks, emoji and other surrogate pairs, the contractions
/// of GPT-2's pattern and apostrophes on their own, punctuation, lone surrogates (U+FFFD once written as UTF-8) and
/// the literal "&lt;|endoftext|&gt;".</summary>
internal static class AdversarialText
{
    private static readonly string[] Whitespace =
        [" ", "  ", "   ", "\t", " \t", "\n", "\n\n", "\r\n", "\r\n\r\n", " \n", "\n ", "\u00A0", "\u3000", "\u2028", "\u2029", "\u0085", "\v", "\f", "\u2003", " \u00A0 "];

    private static readonly string[] Words =
        ["a", "I", "the", "Hello", "word", "naïve", "café", "e\u0301", "Über", "漢字", "中文文本", "日本語", "한국어", "مرحبا", "नमस्ते", "Ωμέγα", "𝐀𝐁", "x"];

    private static readonly string[] Numbers = ["0", "7", "123", "2024", "٣٤", "①", "Ⅻ", "½", "3.14", "1,000"];

    private static readonly string[] Others =
        ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'", "''", "’s", "'S", "'x", ".", ",", "!?", "...", "-", "—", "(", ")", "\"", "😀", "👍🏽", "🇫🇷", "\u200B", "\u00AD", "<|endoftext|>", "<|", "|>", "endoftext", "\uFFFD", "\uD800", "\uDC00", "$", "#", "@@"];

    /// <summary>At least <paramref name="length"/> characters, of fragments drawn at random, some repeated.</summary>
    public static string Generate(Random random, int length)
    {
        var text = new StringBuilder(length + 32);
        while (text.Length < length)
        {
            var pool = random.Next(10) switch
            {
                < 4 => Whitespace,
                < 7 => Words,
                < 8 => Numbers,
                _ => Others,
            };
            var fragment = pool[random.Next(pool.Length)];
            var repeat = random.Next(8) == 0 ? random.Next(2, 6) : 1;
            for (var i = 0; i < repeat; i++)
            {
                text.Append(fragment);
            }
        }

        return text.ToString();
    }
}
