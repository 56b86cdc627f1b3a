using SharpGpt.Data;

namespace SharpGpt.Tests.Data;

public class TokenShardTests
{
    [Fact]
    public void Write_then_read_round_trips()
    {
        using var temp = new TempDirectory();
        var path = temp.File("x.bin");
        int[] tokens = [0, 1, 50256, 65535, 7];

        TokenShardWriter.Write(path, tokens);

        Assert.Equal(1024 + 2 * tokens.Length, new FileInfo(path).Length);
        Assert.Equal(tokens.Length, TokenShardReader.ReadTokenCount(path));
        Assert.Equal(tokens, TokenShardReader.Read(path).Select(t => (int)t));
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public void Header_is_llm_c_format()
    {
        using var temp = new TempDirectory();
        var path = temp.File("x.bin");

        TokenShardWriter.Write(path, [3, 4]);

        var bytes = File.ReadAllBytes(path);
        Assert.Equal(20240520, BitConverter.ToInt32(bytes, 0));
        Assert.Equal(1, BitConverter.ToInt32(bytes, 4));
        Assert.Equal(2, BitConverter.ToInt32(bytes, 8));
        Assert.All(bytes[12..1024], b => Assert.Equal(0, b));
        Assert.Equal(3, BitConverter.ToUInt16(bytes, 1024));
        Assert.Equal(4, BitConverter.ToUInt16(bytes, 1026));
    }

    [Fact]
    public void Empty_shard_round_trips()
    {
        using var temp = new TempDirectory();
        var path = temp.File("x.bin");

        TokenShardWriter.Write(path, ReadOnlySpan<int>.Empty);

        Assert.Empty(TokenShardReader.Read(path));
    }

    [Fact]
    public void Tokens_that_do_not_fit_uint16_are_an_error()
    {
        using var temp = new TempDirectory();
        var path = temp.File("x.bin");

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => TokenShardWriter.Write(path, [1, 65536]));
        Assert.Contains("65536", error.Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Wrong_magic_is_reported_with_the_file()
    {
        using var temp = new TempDirectory();
        var path = temp.File("x.bin");
        TokenShardWriter.Write(path, [1, 2, 3]);
        Patch(path, offset: 0, value: 123);

        var error = Assert.Throws<SharpGptException>(() => TokenShardReader.Read(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("wrong magic 123 (expected 20240520)", error.Message);
    }

    [Fact]
    public void Wrong_version_is_reported_with_the_file()
    {
        using var temp = new TempDirectory();
        var path = temp.File("x.bin");
        TokenShardWriter.Write(path, [1, 2, 3]);
        Patch(path, offset: 4, value: 2);

        var error = Assert.Throws<SharpGptException>(() => TokenShardReader.ReadTokenCount(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("version 2", error.Message);
    }

    [Fact]
    public void Truncated_file_is_reported_with_the_file()
    {
        using var temp = new TempDirectory();
        var path = temp.File("x.bin");
        TokenShardWriter.Write(path, [1, 2, 3]);
        using (var stream = File.OpenWrite(path))
        {
            stream.SetLength(1024 + 4);
        }

        var error = Assert.Throws<SharpGptException>(() => TokenShardReader.Read(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("header says 3 tokens but the file holds 2", error.Message);
    }

    [Fact]
    public void Count_disagreeing_with_length_is_reported_with_the_file()
    {
        using var temp = new TempDirectory();
        var path = temp.File("x.bin");
        TokenShardWriter.Write(path, [1, 2, 3]);
        Patch(path, offset: 8, value: 1000);

        var error = Assert.Throws<SharpGptException>(() => TokenShardReader.Read(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("header says 1000 tokens but the file holds 3", error.Message);
    }

    [Fact]
    public void File_shorter_than_the_header_is_reported_with_the_file()
    {
        using var temp = new TempDirectory();
        var path = temp.File("x.bin");
        File.WriteAllBytes(path, new byte[10]);

        var error = Assert.Throws<SharpGptException>(() => TokenShardReader.Read(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("shorter than the 1024-byte shard header", error.Message);
    }

    [Fact]
    public void Missing_file_is_reported_with_the_file()
    {
        using var temp = new TempDirectory();
        var path = temp.File("missing.bin");

        var error = Assert.Throws<SharpGptException>(() => TokenShardReader.Read(path));
        Assert.Contains(path, error.Message);
    }

    private static void Patch(string path, int offset, int value)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Write);
        stream.Position = offset;
        stream.Write(BitConverter.GetBytes(value));
    }
}
