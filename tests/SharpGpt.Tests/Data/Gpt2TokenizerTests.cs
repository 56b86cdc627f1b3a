using SharpGpt.Data;

namespace SharpGpt.Tests.Data;

public class Gpt2TokenizerTests
{
    private readonly Gpt2Tokenizer _tokenizer = new();

    [Fact]
    public void Describes_the_GPT2_vocabulary()
    {
        Assert.Equal("gpt2", _tokenizer.Name);
        Assert.Equal(50257, _tokenizer.VocabSize);
        Assert.Equal(50256, _tokenizer.EndOfTextToken);
    }

    [Fact]
    public void Encodes_known_ids()
    {
        Assert.Equal([15496, 995], _tokenizer.Encode("Hello world"));
        Assert.Equal([5962, 22307, 25], _tokenizer.Encode("First Citizen:"));
    }

    [Fact]
    public void Endoftext_inside_a_document_is_ordinary_text()
    {
        var ids = _tokenizer.Encode("a<|endoftext|>b");

        Assert.DoesNotContain(50256, ids);
        Assert.Equal([64, 27, 91, 437, 1659, 5239, 91, 29, 65], ids); // tiktoken's encode_ordinary
        Assert.Equal("a<|endoftext|>b", _tokenizer.Decode(ids));
    }

    [Fact]
    public void Decodes_the_end_of_text_token_to_its_spelling()
    {
        Assert.Equal("<|endoftext|>x", _tokenizer.Decode([50256, 87]));
    }

    [Theory]
    [InlineData("")]
    [InlineData("First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n")]
    [InlineData("  leading and trailing spaces   \r\n\ttabs, it's I'LL we've 1234567 $%^&*")]
    [InlineData("héllo wörld — ünïcödé, 日本語, emoji 😀👍🏽, math 𝐀𝐁")]
    public void Round_trips(string text)
    {
        Assert.Equal(text, _tokenizer.Decode(_tokenizer.Encode(text)));
    }

    [Fact]
    public void Round_trips_tiny_shakespeare()
    {
        var text = EmbeddedData.TinyShakespeare();
        var ids = _tokenizer.Encode(text);

        Assert.Equal(338025, ids.Length); // nanoGPT's shakespeare: 301,966 + 36,059 tokens
        Assert.Equal(text, _tokenizer.Decode(ids));
    }

    [Fact]
    public void Rejects_ids_outside_the_vocabulary()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => _tokenizer.Decode([1, 50257]));
        Assert.Contains("50257", error.Message);
    }
}
