using SharpGpt.Data;
using SharpGpt.Tests.Data;

namespace SharpGpt.Tests.Cli;

[Collection(ConsoleCollection.Name)]
public sealed class PrepareCliTests
{
    [Fact]
    public void Takes_several_inputs_of_different_types_and_reports_its_throughput()
    {
        using var temp = new TempDirectory();
        var first = FineWebSample.Documents(20, seed: 1);
        var second = FineWebSample.Documents(20, seed: 2);
        FineWebSample.WriteParquet(temp.File("a.parquet"), first, rowsPerGroup: 6);
        FineWebSample.WriteJsonl(temp.File("b.jsonl.gz"), second);
        var all = FineWebSample.Gpt2Tokens([.. first, .. second]);

        var run = CliRunner.Run("prepare", "--input", temp.File("a.parquet"), temp.File("b.jsonl.gz"), "--out", temp.File("out"), "--val-tokens", "1000", "--shard-tokens", "5000");

        Assert.True(run.Code == 0, run.Out + run.Err);
        Assert.Matches(@"wrote .* in [\d.]+ s: [\d.]+M tokens/s, [\d.]+ MB/s of input \([\d.]+ (KiB|MiB)\); peak memory [\d.]+ (MiB|GiB)", run.Out);
        var meta = PreparedDataMeta.Read(temp.File("out"));
        Assert.Equal(1000, meta.ValTokens);
        Assert.Equal(all.Length - 1000, meta.TrainTokens);
        Assert.Equal((all.Length - 1000 + 4999) / 5000, meta.TrainShards);
        Assert.Equal(all[1000..], FineWebSample.ReadTokens(TokenDataLoader.FindShards(temp.File("out"), "train")));
    }

    [Fact]
    public void Val_fraction_and_val_tokens_together_are_refused()
    {
        using var temp = new TempDirectory();
        FineWebSample.WriteJsonl(temp.File("a.jsonl"), ["one", "two"]);

        var run = CliRunner.Run("prepare", "--input", temp.File("a.jsonl"), "--out", temp.File("out"), "--val-fraction", "0.5", "--val-tokens", "10");

        Assert.Equal(1, run.Code);
        Assert.Equal("sharpgpt prepare: --val-fraction and --val-tokens: both choose the validation split; give one of them", run.Err.Trim());
    }

    [Fact]
    public void A_bad_input_is_one_line_naming_the_file()
    {
        using var temp = new TempDirectory();
        var path = temp.File("docs.parquet");
        FineWebSample.WriteParquet(path, ["a", "b", null], rowsPerGroup: 2);

        var run = CliRunner.Run("prepare", "--input", path, "--out", temp.File("out"));

        Assert.Equal(1, run.Code);
        Assert.Equal($"sharpgpt prepare: {path}: row group 1, row 0: \"text\" is null.", run.Err.Trim());
    }
}
