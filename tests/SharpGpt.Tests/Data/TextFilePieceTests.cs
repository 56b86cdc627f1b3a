using System.Text;
using SharpGpt.Data;

namespace SharpGpt.Tests.Data;

public class TextFilePieceTests
{
    private static readonly char[] WhitespaceKinds = [' ', '\t', '\n', '\r', '\u00A0', '\u3000', '\u2028', '\u0085'];

    /// <summary>Random texts cut into pieces of a few characters: the pieces, tokenized one by one (the first with
    /// the end-of-text token), give exactly the whole file's GPT-2 tokens, and put together they are exactly the
    /// text <see cref="File.ReadAllText(string)"/> reads. The cuts must fall on every kind of place the test is
    /// about, or it would prove nothing.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(8)]
    [InlineData(32)]
    [InlineData(200)]
    public void Pieces_tokenize_exactly_as_the_whole_file(int pieceChars)
    {
        using var temp = new TempDirectory();
        var random = new Random(pieceChars);
        var tokenizer = new Gpt2Tokenizer();
        var encoder = new Gpt2DocumentEncoder();
        var cutsBetween = new HashSet<(char, char)>();
        int cutsInEndOfText = 0, readsInsideCharacters = 0;
        for (var round = 0; round < 40; round++)
        {
            var path = temp.File($"t{round}.txt");
            WriteUtf8(path, AdversarialText.Generate(random, 3000));
            var text = File.ReadAllText(path);

            var pieces = TextFilePiece.Split(path, bytesBefore: 0, pieceChars: pieceChars).Cast<TextFilePiece>().ToList();
            var (pieceTexts, tokens) = Encode(pieces, encoder);

            Assert.Equal(text, string.Concat(pieceTexts));
            Assert.Equal([Gpt2Tokenizer.EndOfText, .. tokenizer.Encode(text)], tokens);
            Assert.Equal([false, .. Enumerable.Repeat(true, pieces.Count - 1)], pieces.Select(p => p.ContinuesDocument));

            var at = 0;
            foreach (var piece in pieceTexts.SkipLast(1))
            {
                at += piece.Length;
                cutsBetween.Add((Kind(text[at - 1]), Kind(text[at])));
                var endOfText = text.IndexOf("<|endoftext|>", Math.Max(0, at - 12), StringComparison.Ordinal);
                cutsInEndOfText += endOfText >= 0 && endOfText < at ? 1 : 0;
            }

            // The reader reads a piece's worth of bytes at a time, 128 at least (StreamReader's smallest buffer).
            var readBytes = Math.Clamp(pieceChars, 128, TextFileReader.ReadBytes);
            var bytes = File.ReadAllBytes(path);
            readsInsideCharacters += Enumerable.Range(1, (bytes.Length - 1) / readBytes).Count(k => (bytes[k * readBytes] & 0xC0) == 0x80);
        }

        // Cuts after every kind of whitespace, before every kind, inside runs, between classes, inside the spelling
        // of <|endoftext|>; reads that end inside a multi-byte character.
        foreach (var space in WhitespaceKinds)
        {
            Assert.Contains(cutsBetween, c => c.Item1 == space);
            Assert.Contains(cutsBetween, c => c.Item2 == space);
        }

        Assert.Contains(('L', 'N'), cutsBetween);
        Assert.Contains(('L', 'P'), cutsBetween);
        Assert.Contains(('N', 'L'), cutsBetween);
        Assert.Contains(('P', 'L'), cutsBetween);
        Assert.True(cutsInEndOfText > 0 || pieceChars >= 200, $"{cutsInEndOfText} cuts inside <|endoftext|>");
        Assert.True(readsInsideCharacters > 50, $"{readsInsideCharacters} reads ending inside a character");
    }

    /// <summary>Byte order marks and invalid UTF-8 decode as <see cref="File.ReadAllText(string)"/> decodes them,
    /// also where the reads (128 bytes here) end inside a character or inside an invalid sequence.</summary>
    [Theory]
    [InlineData("utf-8")]
    [InlineData("utf-8 with BOM")]
    [InlineData("utf-8 with invalid bytes")]
    [InlineData("utf-8 with BOM and invalid bytes")]
    [InlineData("utf-16LE with BOM")]
    [InlineData("utf-16BE with BOM")]
    [InlineData("utf-32LE with BOM")]
    public void Pieces_decode_as_ReadAllText_does(string encoding)
    {
        using var temp = new TempDirectory();
        var random = new Random(encoding.Length);
        var tokenizer = new Gpt2Tokenizer();
        for (var round = 0; round < 10; round++)
        {
            var path = temp.File($"t{round}.txt");
            File.WriteAllBytes(path, Bytes(AdversarialText.Generate(random, 2000), encoding, random));
            var text = File.ReadAllText(path);

            var pieces = TextFilePiece.Split(path, bytesBefore: 0, pieceChars: 16).Cast<TextFilePiece>().ToList();
            var (pieceTexts, tokens) = Encode(pieces, new Gpt2DocumentEncoder());

            Assert.True(pieces.Count > 50, $"{pieces.Count} pieces");
            Assert.Equal(text, string.Concat(pieceTexts));
            Assert.Equal([Gpt2Tokenizer.EndOfText, .. tokenizer.Encode(text)], tokens);
            Assert.Equal(new FileInfo(path).Length, pieces[^1].BytesRead);
        }
    }

    /// <summary>At every place a second document may start, including inside a surrogate pair (then one on), the
    /// piece before ends there and the next starts the document.</summary>
    [Fact]
    public void A_document_break_ends_a_piece_there_and_the_next_piece_starts_a_document()
    {
        using var temp = new TempDirectory();
        var path = temp.File("t.txt");
        WriteUtf8(path, AdversarialText.Generate(new Random(3), 300));
        var text = File.ReadAllText(path);
        Assert.Contains(Enumerable.Range(1, text.Length - 1), i => char.IsSurrogatePair(text[i - 1], text[i]));

        for (var at = 1; at < text.Length - 1; at++)
        {
            var pieces = TextFilePiece.Split(path, bytesBefore: 0, documentBreak: at, pieceChars: 16).Cast<TextFilePiece>().ToList();
            var (pieceTexts, _) = Encode(pieces, new Gpt2DocumentEncoder());

            var expected = char.IsSurrogatePair(text[at - 1], text[at]) ? at + 1 : at;
            var second = pieces.FindIndex(1, p => !p.ContinuesDocument);
            Assert.Equal(expected, pieceTexts.Take(second).Sum(t => t.Length));
            Assert.Equal(-1, pieces.FindIndex(second + 1, p => !p.ContinuesDocument));
            Assert.Equal(text, string.Concat(pieceTexts));
        }
    }

    [Fact]
    public void A_run_that_cannot_be_cut_stays_in_one_piece_however_long()
    {
        using var temp = new TempDirectory();
        var path = temp.File("t.txt");
        var run = " " + new string('a', 5000);
        var text = "x" + run + string.Concat(Enumerable.Repeat(" yz", 3000));
        File.WriteAllText(path, text);

        var pieces = TextFilePiece.Split(path, bytesBefore: 0, pieceChars: 64).Cast<TextFilePiece>().ToList();
        var (pieceTexts, tokens) = Encode(pieces, new Gpt2DocumentEncoder());

        Assert.Equal("x", pieceTexts[0]);
        Assert.StartsWith(run, pieceTexts[1], StringComparison.Ordinal);
        Assert.True(pieceTexts.Count > 3);
        Assert.Equal(text, string.Concat(pieceTexts));
        Assert.Equal([Gpt2Tokenizer.EndOfText, .. new Gpt2Tokenizer().Encode(text)], tokens);
    }

    /// <summary>Each piece's text and all their tokens, pieces encoded as the workers of prepare encode them.</summary>
    private static (List<string> Texts, List<int> Tokens) Encode(IEnumerable<TextFilePiece> pieces, IDocumentEncoder encoder)
    {
        using var readers = new PieceReaders();
        var texts = new List<string>();
        using var tokens = new TokenBuffer(1024);
        foreach (var piece in pieces)
        {
            using var read = piece.Read(readers);
            var document = Assert.Single(read.Documents);
            texts.Add(document.ToString());
            encoder.Encode(document.Span, !piece.ContinuesDocument, tokens);
        }

        return (texts, [.. tokens.Span]);
    }

    /// <summary>The text as UTF-8, a lone surrogate as U+FFFD (File.WriteAllText would throw).</summary>
    private static void WriteUtf8(string path, string text) => File.WriteAllBytes(path, Encoding.UTF8.GetBytes(text));

    private static byte[] Bytes(string text, string encoding, Random random)
    {
        var bytes = encoding switch
        {
            "utf-16LE with BOM" => [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(text)],
            "utf-16BE with BOM" => [.. Encoding.BigEndianUnicode.GetPreamble(), .. Encoding.BigEndianUnicode.GetBytes(text)],
            "utf-32LE with BOM" => [.. Encoding.UTF32.GetPreamble(), .. Encoding.UTF32.GetBytes(text)],
            _ when encoding.Contains("BOM", StringComparison.Ordinal) => [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(text)],
            _ => Encoding.UTF8.GetBytes(text),
        };
        if (!encoding.Contains("invalid", StringComparison.Ordinal))
        {
            return bytes;
        }

        // Lone continuation bytes, sequences cut short, overlong forms, encoded surrogates, bytes never valid.
        byte[][] invalid = [[0x80], [0xBF, 0x80], [0xC3], [0xE2, 0x82], [0xF0, 0x9F, 0x98], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xFF], [0xF8, 0x88, 0x80, 0x80, 0x80]];
        var damaged = new List<byte>(bytes.Length + 512);
        var start = encoding.Contains("BOM", StringComparison.Ordinal) ? 3 : 0;
        damaged.AddRange(bytes.AsSpan(0, start));
        for (var i = start; i < bytes.Length; i++)
        {
            if (random.Next(40) == 0)
            {
                damaged.AddRange(invalid[random.Next(invalid.Length)]);
            }

            damaged.Add(bytes[i]);
        }

        return [.. damaged];
    }

    /// <summary>A whitespace character as itself; otherwise L (letter), N (number) or P (anything else).</summary>
    private static char Kind(char c) =>
        char.IsWhiteSpace(c) ? c : char.IsLetter(c) ? 'L' : char.IsNumber(c) ? 'N' : 'P';
}
