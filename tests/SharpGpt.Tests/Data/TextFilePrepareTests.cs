using System.Text;
using System.Text.Json;
using SharpGpt.Data;

namespace SharpGpt.Tests.Data;

/// <summary>A .txt file prepared through the streaming path, in pieces of a few characters on several threads,
/// against the tokens of its whole text computed here.</summary>
public class TextFilePrepareTests
{
    [Theory]
    [InlineData("gpt2", 7)]
    [InlineData("gpt2", 100)]
    [InlineData("char", 7)]
    [InlineData("char", 100)]
    public void A_txt_in_pieces_gives_the_tokens_of_its_whole_text_split_at_the_same_character(string tokenizerName, int pieceChars)
    {
        using var temp = new TempDirectory();
        var input = temp.File("input.txt");
        WriteUtf8(input, AdversarialText.Generate(new Random(pieceChars), 20_000));
        var text = File.ReadAllText(input);

        var result = DataPreparer.PrepareFile(input, temp.File("out"), new PrepareOptions { Tokenizer = Kind(tokenizerName), TextPieceChars = pieceChars, Threads = 3 });

        var cut = (int)(text.Length * 0.9);
        cut += char.IsSurrogatePair(text[cut - 1], text[cut]) ? 1 : 0;
        var tokenizer = tokenizerName == "gpt2" ? new Gpt2Tokenizer() : (GptTokenizer)CharTokenizer.FromText(text);
        Assert.Equal(Document(tokenizer, text[..cut]), ReadAll(result.TrainShards));
        Assert.Equal(Document(tokenizer, text[cut..]), ReadAll(result.ValidationShards));
        Assert.Equal(tokenizer.VocabSize, result.Meta.VocabSize);
        Assert.Equal(new FileInfo(input).Length, result.InputBytes);
    }

    /// <summary>The default data: Tiny Shakespeare as a .txt file gives byte for byte the shards of the embedded
    /// text, which are prepared whole in memory as before.</summary>
    [Theory]
    [InlineData("char")]
    [InlineData("gpt2")]
    public void Tiny_shakespeare_as_a_txt_file_gives_the_shards_of_the_embedded_text(string tokenizer)
    {
        using var temp = new TempDirectory();
        var input = temp.File("tinyshakespeare.txt");
        File.WriteAllText(input, EmbeddedData.TinyShakespeare());
        var options = new PrepareOptions { Tokenizer = Kind(tokenizer), TextPieceChars = 4096 };

        var streamed = DataPreparer.PrepareFile(input, temp.File("streamed"), options);
        var embedded = DataPreparer.PrepareEmbeddedShakespeare(temp.File("embedded"), options);

        Assert.Equal(embedded.Meta, streamed.Meta);
        Assert.Equal(File.ReadAllBytes(embedded.ValidationShards[0]), File.ReadAllBytes(streamed.ValidationShards[0]));
        Assert.Equal(File.ReadAllBytes(embedded.TrainShards[0]), File.ReadAllBytes(streamed.TrainShards[0]));
        if (tokenizer == "char")
        {
            Assert.Equal(new PreparedDataMeta("char", 65, 1_003_854, 111_540, 1, 1), streamed.Meta);
        }
    }

    /// <summary>Where int(n · 0.9) falls inside a surrogate pair, val starts one character on, as before.</summary>
    [Theory]
    [InlineData("gpt2")]
    [InlineData("char")]
    public void A_val_cut_inside_a_surrogate_pair_moves_past_it(string tokenizerName)
    {
        using var temp = new TempDirectory();
        var text = new string('a', 17) + "😀b"; // 20 characters: int(20 · 0.9) = 18, the pair's second half
        var input = temp.File("input.txt");
        File.WriteAllText(input, text);

        var result = DataPreparer.PrepareFile(input, temp.File("out"), new PrepareOptions { Tokenizer = Kind(tokenizerName), TextPieceChars = 4 });

        var tokenizer = TokenizerFactory.LoadForDataDir(temp.File("out"));
        var offset = tokenizerName == "gpt2" ? 1 : 0;
        Assert.Equal(text[..19], tokenizer.Decode(ReadAll(result.TrainShards).AsSpan(offset)));
        Assert.Equal("b", tokenizer.Decode(ReadAll(result.ValidationShards).AsSpan(offset)));
    }

    [Theory]
    [InlineData("aaaaaaaa😀")] // int(10 · 0.9) = 9 moves to 10: no val left
    [InlineData("a")]
    public void Too_little_text_to_split_is_named_as_before(string text)
    {
        using var temp = new TempDirectory();
        var input = temp.File("input.txt");
        File.WriteAllText(input, text);

        var error = Assert.Throws<InvalidDataException>(() => DataPreparer.PrepareFile(input, temp.File("out")));
        var before = Assert.Throws<InvalidDataException>(() => DataPreparer.PrepareText(text, temp.File("out"), sourceName: input));

        Assert.Equal(before.Message, error.Message);
        Assert.StartsWith($"{input}: {text.Length} characters is too little text", error.Message, StringComparison.Ordinal);
    }

    /// <summary>--val-fraction 0: the whole text is one train document and nothing is written to val (a lone
    /// end-of-text token used to be).</summary>
    [Fact]
    public void Val_fraction_zero_writes_a_txt_to_train_only()
    {
        using var temp = new TempDirectory();
        var input = temp.File("input.txt");
        WriteUtf8(input, AdversarialText.Generate(new Random(0), 5000));
        var text = File.ReadAllText(input);
        var options = new PrepareOptions { ValidationFraction = 0, TextPieceChars = 64 };

        var result = DataPreparer.PrepareFile(input, temp.File("out"), options);
        var inMemory = DataPreparer.PrepareText(text, temp.File("memory"), options);

        foreach (var prepared in new[] { result, inMemory })
        {
            Assert.Empty(prepared.ValidationShards);
            Assert.Equal(0, prepared.Meta.ValTokens);
            Assert.Equal(Document(new Gpt2Tokenizer(), text), ReadAll(prepared.TrainShards));
        }
    }

    /// <summary>Among other files a .txt is one document, however many pieces it is read in: it takes one place in
    /// the order that picks validation documents.</summary>
    [Fact]
    public void A_txt_among_jsonl_files_is_one_document()
    {
        using var temp = new TempDirectory();
        var folder = Directory.CreateDirectory(temp.File("in")).FullName;
        string[] first = ["doc zero", "doc one <|endoftext|>", "doc two"];
        string[] last = ["doc four", "doc five"];
        File.WriteAllLines(Path.Combine(folder, "a.jsonl"), first.Select(d => JsonSerializer.Serialize(new { text = d })));
        WriteUtf8(Path.Combine(folder, "b.txt"), AdversarialText.Generate(new Random(1), 5000));
        File.WriteAllLines(Path.Combine(folder, "c.jsonl"), last.Select(d => JsonSerializer.Serialize(new { text = d })));
        var text = File.ReadAllText(Path.Combine(folder, "b.txt"));

        var result = DataPreparer.Prepare([folder], temp.File("out"), new PrepareOptions { ValidationFraction = 0.5, TextPieceChars = 16, Threads = 3 });

        // Documents 0, 2 and 4 are val (every second, the first included); the .txt is document 3.
        var tokenizer = new Gpt2Tokenizer();
        Assert.Equal([.. Document(tokenizer, first[0]), .. Document(tokenizer, first[2]), .. Document(tokenizer, last[0])], ReadAll(result.ValidationShards));
        Assert.Equal([.. Document(tokenizer, first[1]), .. Document(tokenizer, text), .. Document(tokenizer, last[1])], ReadAll(result.TrainShards));
    }

    /// <summary>The progress bar moves through a .txt as through the other formats: after each piece, by the bytes
    /// read, up to the whole file and the tokens written.</summary>
    [Fact]
    public void Progress_moves_through_a_txt_piece_by_piece()
    {
        using var temp = new TempDirectory();
        var input = temp.File("input.txt");
        WriteUtf8(input, AdversarialText.Generate(new Random(2), 20_000));
        var progress = new Reports();

        var result = DataPreparer.Prepare([input], temp.File("out"), new PrepareOptions { TextPieceChars = 64, Threads = 2 }, progress);

        var length = new FileInfo(input).Length;
        Assert.True(progress.All.Count > 100, $"{progress.All.Count} reports");
        Assert.All(progress.All.Zip(progress.All.Skip(1)), p => Assert.True(p.First.BytesRead <= p.Second.BytesRead && p.First.Tokens <= p.Second.Tokens));
        Assert.Equal(length, progress.All[^1].BytesRead);
        Assert.Equal(length, progress.All[^1].TotalBytes);
        Assert.Equal(result.Meta.TrainTokens + result.Meta.ValTokens, progress.All[^1].Tokens);
        Assert.Equal(2, progress.All[^1].Documents); // train and val
    }

    /// <summary>The tokens of one document: the end-of-text token first where the tokenizer has one.</summary>
    private static int[] Document(GptTokenizer tokenizer, string text) =>
        tokenizer.EndOfTextToken is int eot ? [eot, .. tokenizer.Encode(text)] : tokenizer.Encode(text);

    private static int[] ReadAll(IEnumerable<string> shards) => [.. shards.SelectMany(TokenShardReader.Read).Select(t => (int)t)];

    private static void WriteUtf8(string path, string text) => File.WriteAllBytes(path, Encoding.UTF8.GetBytes(text));

    /// <summary>Every report, as it comes (Progress&lt;T&gt; would post them elsewhere).</summary>
    private sealed class Reports : IProgress<PrepareProgress>
    {
        public List<PrepareProgress> All { get; } = [];

        public void Report(PrepareProgress value) => All.Add(value);
    }

    private static TokenizerKind Kind(string name) => name == "char" ? TokenizerKind.Character : TokenizerKind.Gpt2;
}
