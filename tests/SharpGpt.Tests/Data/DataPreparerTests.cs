using System.Text.Json;
using SharpGpt.Data;

namespace SharpGpt.Tests.Data;

public class DataPreparerTests
{
    private const string SmallText = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n";

    [Fact]
    public void Char_txt_splits_the_last_fraction_of_characters_into_val()
    {
        using var temp = new TempDirectory();
        var input = temp.File("input.txt");
        File.WriteAllText(input, SmallText);
        var outDir = temp.File("out");

        var result = DataPreparer.PrepareFile(input, outDir, new PrepareOptions { Tokenizer = TokenizerKind.Character, ValidationFraction = 0.25 });

        var cut = (int)(SmallText.Length * 0.75);
        Assert.Equal([Path.Combine(outDir, "val_000000.bin")], result.ValidationShards);
        Assert.Equal([Path.Combine(outDir, "train_000000.bin")], result.TrainShards);
        Assert.Equal(new PreparedDataMeta("char", SmallText.Distinct().Count(), cut, SmallText.Length - cut, 1, 1), result.Meta);
        Assert.Equal(result.Meta, PreparedDataMeta.Read(outDir));

        var tokenizer = TokenizerFactory.LoadForDataDir(outDir);
        Assert.Equal(SmallText[..cut], tokenizer.Decode(ReadAll(result.TrainShards)));
        Assert.Equal(SmallText[cut..], tokenizer.Decode(ReadAll(result.ValidationShards)));
    }

    [Fact]
    public void Gpt2_txt_starts_each_split_with_end_of_text()
    {
        using var temp = new TempDirectory();
        var input = temp.File("input.txt");
        File.WriteAllText(input, SmallText);
        var outDir = temp.File("out");

        var result = DataPreparer.PrepareFile(input, outDir, new PrepareOptions { Tokenizer = TokenizerKind.Gpt2, ValidationFraction = 0.25 });

        var train = ReadAll(result.TrainShards);
        var val = ReadAll(result.ValidationShards);
        var cut = (int)(SmallText.Length * 0.75);
        var tokenizer = TokenizerFactory.LoadForDataDir(outDir);
        Assert.IsType<Gpt2Tokenizer>(tokenizer);
        Assert.Equal(50256, train[0]);
        Assert.Equal(50256, val[0]);
        Assert.Equal(SmallText[..cut], tokenizer.Decode(train.AsSpan(1)));
        Assert.Equal(SmallText[cut..], tokenizer.Decode(val.AsSpan(1)));
        Assert.Equal(new PreparedDataMeta("gpt2", 50257, train.Length, val.Length, 1, 1), result.Meta);
    }

    [Fact]
    public void Jsonl_documents_each_start_with_end_of_text_and_every_nth_goes_to_val()
    {
        using var temp = new TempDirectory();
        string[] documents = ["doc zero", "doc one <|endoftext|> inside", "doc two", "doc three", "doc four"];
        var input = WriteJsonl(temp, documents);
        var outDir = temp.File("out");

        var result = DataPreparer.PrepareFile(input, outDir, new PrepareOptions { ValidationFraction = 0.5 });

        var tokenizer = new Gpt2Tokenizer();
        var train = ReadAll(result.TrainShards);
        var val = ReadAll(result.ValidationShards);
        Assert.Equal(2, train.Count(t => t == 50256)); // the literal "<|endoftext|>" stayed text
        Assert.Equal(3, val.Count(t => t == 50256));
        Assert.Equal("<|endoftext|>doc zero<|endoftext|>doc two<|endoftext|>doc four", tokenizer.Decode(val));
        Assert.Equal("<|endoftext|>doc one <|endoftext|> inside<|endoftext|>doc three", tokenizer.Decode(train));
    }

    [Fact]
    public void Jsonl_with_char_tokenizer_takes_its_vocabulary_from_every_document()
    {
        using var temp = new TempDirectory();
        var input = WriteJsonl(temp, ["abc", "xyz", "aaa"]);

        var result = DataPreparer.PrepareFile(input, temp.File("out"), new PrepareOptions { Tokenizer = TokenizerKind.Character, ValidationFraction = 0.1 });

        var tokenizer = Assert.IsType<CharTokenizer>(TokenizerFactory.LoadForDataDir(temp.File("out")));
        Assert.Equal("abcxyz", tokenizer.Chars);
        Assert.Equal("abc", tokenizer.Decode(ReadAll(result.ValidationShards)));
        Assert.Equal("xyzaaa", tokenizer.Decode(ReadAll(result.TrainShards)));
    }

    [Theory]
    [InlineData(0.1, new long[] { 0, 10, 20, 30 })]
    [InlineData(0.25, new long[] { 0, 4, 8, 12, 16, 20, 24, 28 })]
    [InlineData(0.0, new long[0])]
    public void Validation_documents_are_spread_evenly(double fraction, long[] expected)
    {
        var chosen = Enumerable.Range(0, 32).Select(i => (long)i).Where(i => DataPreparer.IsValidationDocument(i, fraction));
        Assert.Equal(expected, chosen);
    }

    [Fact]
    public void Splits_into_shards_of_at_most_shard_tokens()
    {
        using var temp = new TempDirectory();
        var text = string.Concat(Enumerable.Repeat("abcdefghij", 10)); // 100 chars: 90 train, 10 val
        var outDir = temp.File("out");

        var result = DataPreparer.PrepareText(text, outDir, new PrepareOptions { Tokenizer = TokenizerKind.Character, ShardTokens = 25 });

        Assert.Equal(["train_000000.bin", "train_000001.bin", "train_000002.bin", "train_000003.bin"], result.TrainShards.Select(Path.GetFileName));
        Assert.Equal([25, 25, 25, 15], result.TrainShards.Select(TokenShardReader.ReadTokenCount));
        Assert.Equal(4, result.Meta.TrainShards);
        var tokenizer = TokenizerFactory.LoadForDataDir(outDir);
        Assert.Equal(text[..90], tokenizer.Decode(ReadAll(result.TrainShards)));
    }

    [Fact]
    public void Removes_shards_left_by_an_earlier_larger_run()
    {
        using var temp = new TempDirectory();
        var outDir = temp.File("out");
        var text = string.Concat(Enumerable.Repeat("abcdefghij", 10));
        DataPreparer.PrepareText(text, outDir, new PrepareOptions { Tokenizer = TokenizerKind.Character, ShardTokens = 25 });

        DataPreparer.PrepareText(text, outDir, new PrepareOptions { Tokenizer = TokenizerKind.Character });

        Assert.Equal(["train_000000.bin"], TokenDataLoader.FindShards(outDir, "train").Select(Path.GetFileName));
    }

    [Fact]
    public void Val_fraction_zero_writes_only_train()
    {
        using var temp = new TempDirectory();

        var result = DataPreparer.PrepareText("hello", temp.Path, new PrepareOptions { Tokenizer = TokenizerKind.Character, ValidationFraction = 0 });

        Assert.Empty(result.ValidationShards);
        Assert.Equal(5, result.Meta.TrainTokens);
        Assert.Equal(0, result.Meta.ValTokens);
    }

    [Fact]
    public void Missing_input_is_named()
    {
        using var temp = new TempDirectory();
        var input = temp.File("nope.txt");

        var error = Assert.Throws<FileNotFoundException>(() => DataPreparer.PrepareFile(input, temp.File("out")));
        Assert.Contains(input, error.Message);
    }

    [Theory]
    [InlineData("empty.txt", "")]
    [InlineData("bom-only.txt", "\uFEFF")]
    [InlineData("empty.jsonl", "")]
    [InlineData("blank.jsonl", "\n{\"text\": \"\"}\n")]
    public void Empty_input_is_named(string name, string content)
    {
        using var temp = new TempDirectory();
        var input = temp.File(name);
        File.WriteAllText(input, content);

        var error = Assert.Throws<InvalidDataException>(() => DataPreparer.PrepareFile(input, temp.File("out")));
        Assert.Contains(input, error.Message);
    }

    [Fact]
    public void Bad_jsonl_line_is_named_with_its_line_number()
    {
        using var temp = new TempDirectory();
        var input = temp.File("bad.jsonl");
        File.WriteAllText(input, "{\"text\": \"fine\"}\n{\"body\": \"no text field\"}\n");

        var error = Assert.Throws<InvalidDataException>(() => DataPreparer.PrepareFile(input, temp.File("out")));
        Assert.Contains($"{input}:2:", error.Message);
    }

    [Fact]
    public void Unsupported_input_type_is_an_error()
    {
        using var temp = new TempDirectory();
        var input = temp.File("data.csv");
        File.WriteAllText(input, "a,b");

        var error = Assert.Throws<SharpGptException>(() => DataPreparer.PrepareFile(input, temp.File("out")));
        Assert.Contains(".csv", error.Message);
    }

    [Fact]
    public void Embedded_tiny_shakespeare_prepares_like_nanogpt_shakespeare_char()
    {
        using var temp = new TempDirectory();
        Assert.Equal(1_115_394, EmbeddedData.TinyShakespeare().Length);

        var result = DataPreparer.PrepareEmbeddedShakespeare(temp.Path, new PrepareOptions { Tokenizer = TokenizerKind.Character });

        Assert.Equal(new PreparedDataMeta("char", 65, 1_003_854, 111_540, 1, 1), result.Meta);
        var train = TokenDataLoader.ForSplit(temp.Path, "train", batchSize: 4, seqLen: 64);
        train.ValidateTokens(65);
        train.NextBatch();
        Assert.Equal([18, 47, 56, 57, 58, 1, 15, 47, 58, 47, 64, 43, 52, 10], train.Inputs[..14]); // "First Citizen:"
    }

    private static int[] ReadAll(IEnumerable<string> shards) => [.. shards.SelectMany(TokenShardReader.Read).Select(t => (int)t)];

    private static string WriteJsonl(TempDirectory temp, IEnumerable<string> documents)
    {
        var path = temp.File("input.jsonl");
        File.WriteAllLines(path, documents.Select(d => JsonSerializer.Serialize(new { text = d })));
        return path;
    }
}
