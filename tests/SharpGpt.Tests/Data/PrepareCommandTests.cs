using SharpGpt.Cli.Commands;
using SharpGpt.Data;

namespace SharpGpt.Tests.Data;

public class PrepareCommandTests
{
    [Fact]
    public void Prepares_a_txt_file()
    {
        using var temp = new TempDirectory();
        var input = temp.File("in.txt");
        File.WriteAllText(input, "to be or not to be, that is the question");
        var outDir = temp.File("out");

        var exitCode = PrepareCommand.Create().Parse(["--input", input, "--out", outDir, "--tokenizer", "char", "--val-fraction", "0.2"]).Invoke();

        Assert.Equal(0, exitCode);
        var meta = PreparedDataMeta.Read(outDir);
        Assert.Equal("char", meta.Tokenizer);
        Assert.Equal(32, meta.TrainTokens);
        Assert.Equal(8, meta.ValTokens);
    }


    [Fact]
    public void An_unknown_tokenizer_is_refused_by_the_parser()
    {
        var parse = PrepareCommand.Create().Parse(["--input", "x.txt", "--out", "o", "--tokenizer", "bert"]);
        Assert.NotEmpty(parse.Errors);
    }
}
