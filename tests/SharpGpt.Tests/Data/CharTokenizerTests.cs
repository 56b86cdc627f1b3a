using SharpGpt.Data;

namespace SharpGpt.Tests.Data;

public class CharTokenizerTests
{
    [Fact]
    public void Vocabulary_is_the_sorted_distinct_characters()
    {
        var tokenizer = CharTokenizer.FromText("hello world");

        Assert.Equal(" dehlorw", tokenizer.Chars);
        Assert.Equal(8, tokenizer.VocabSize);
        Assert.Equal("char", tokenizer.Name);
        Assert.Null(tokenizer.EndOfTextToken);
        Assert.Equal([3, 2, 4, 4, 5, 0, 7, 5, 6, 4, 1], tokenizer.Encode("hello world"));
    }

    [Fact]
    public void Tiny_shakespeare_has_65_characters()
    {
        var tokenizer = CharTokenizer.FromText(EmbeddedData.TinyShakespeare());

        Assert.Equal(65, tokenizer.VocabSize);
        Assert.Equal("\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", tokenizer.Chars);
    }

    [Theory]
    [InlineData("hello world")]
    [InlineData("ünïcödé 日本語 😀 𝐀 and \r\n\t")]
    public void Round_trips(string text)
    {
        var tokenizer = CharTokenizer.FromText(text);
        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
    }

    [Fact]
    public void A_character_outside_the_bmp_is_one_token()
    {
        var tokenizer = CharTokenizer.FromText("a😀b");

        Assert.Equal(3, tokenizer.VocabSize);
        Assert.Equal([0, 2, 1], tokenizer.Encode("a😀b")); // ordered by code point, as Python's sorted(set(text))
    }

    [Fact]
    public void Unknown_character_error_names_it()
    {
        var tokenizer = CharTokenizer.FromText("abc");

        var error = Assert.Throws<ArgumentException>(() => tokenizer.Encode("abz"));
        Assert.Contains("'z'", error.Message);
        Assert.Contains("position 2", error.Message);
    }

    [Fact]
    public void Rejects_ids_outside_the_vocabulary()
    {
        var tokenizer = CharTokenizer.FromText("abc");
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Decode([3]));
    }

    [Fact]
    public void Saves_and_loads_through_tokenizer_json()
    {
        using var temp = new TempDirectory();
        var path = temp.File("tokenizer.json");
        var original = CharTokenizer.FromText("it's a 'test' & more 😀\n");

        original.Save(path);
        var loaded = TokenizerFactory.Load(path);

        var chars = Assert.IsType<CharTokenizer>(loaded);
        Assert.Equal(original.Chars, chars.Chars);
        Assert.Contains("\"type\": \"char\"", File.ReadAllText(path));
    }
}
