using SharpGpt.Formats;
using SharpGpt.Tests.Data;
using SharpGpt.Tests.Eval;

namespace SharpGpt.Tests.Cli;

[Collection(ConsoleCollection.Name)]
public sealed class ImportExportCommandTests
{
    private static string Fixture(string name) => ReferenceFixtureTests.FixturePath(name);

    [Fact]
    public void ImportedWeightsPassVerifyAndExportImportRoundTrips()
    {
        using var dir = new TempDirectory();
        var import = CliRunner.Run("import", "--from", Fixture("tiny_hf"), "--out", dir.File("tiny.bin"));
        Assert.True(import.Code == 0, import.Err);
        Assert.Contains("4 buffer(s) ignored", import.Out);
        Assert.Equal(File.ReadAllBytes(Fixture("tiny_model.bin")), File.ReadAllBytes(dir.File("tiny.bin")));

        var verify = CliRunner.Run("verify", "--model", dir.File("tiny.bin"), "--state", Fixture("tiny_state.bin"), "--threads", "1");
        Assert.True(verify.Code == 0, verify.Out);
        Assert.Contains("verify: OK", verify.Out);

        var export = CliRunner.Run("export", "--checkpoint", dir.File("tiny.bin"), "--to", dir.File("hf"));
        Assert.True(export.Code == 0, export.Err);
        Assert.True(File.Exists(Path.Combine(dir.File("hf"), "model.safetensors")));
        Assert.Equal(0, CliRunner.Run("import", "--from", dir.File("hf"), "--out", dir.File("again.bin")).Code);
        Assert.Equal(File.ReadAllBytes(dir.File("tiny.bin")), File.ReadAllBytes(dir.File("again.bin")));

        // verify also opens the folder itself.
        Assert.Equal(0, CliRunner.Run("verify", "--model", dir.File("hf"), "--state", Fixture("tiny_state.bin"), "--threads", "1").Code);
    }

    [Fact]
    public void AFileWithoutConfigNeedsHeads()
    {
        using var dir = new TempDirectory();
        var run = CliRunner.Run("import", "--from", Fixture("tiny_hf_f16.safetensors"), "--out", dir.File("m.bin"));
        Assert.Equal(1, run.Code);
        Assert.Contains("give --heads", run.Err);
        Assert.False(File.Exists(dir.File("m.bin")));
        Assert.Equal(0, CliRunner.Run("import", "--from", Fixture("tiny_hf_f16.safetensors"), "--out", dir.File("m.bin"), "--heads", "2").Code);
        Assert.Equal(LlmcCheckpoint.ReadConfig(Fixture("tiny_model.bin")), LlmcCheckpoint.ReadConfig(dir.File("m.bin")));
    }

    [Fact]
    public void ACorruptFileIsAClearErrorAndWritesNothing()
    {
        using var dir = new TempDirectory();
        byte[] bytes = File.ReadAllBytes(Path.Combine(Fixture("tiny_hf"), "model.safetensors"));
        bytes[0] ^= 0x01; // the header length is now off by one
        File.WriteAllBytes(dir.File("bad.safetensors"), bytes);
        var run = CliRunner.Run("import", "--from", dir.File("bad.safetensors"), "--out", dir.File("m.bin"), "--heads", "2");
        Assert.Equal(1, run.Code);
        Assert.Contains("bad.safetensors", run.Err);
        Assert.False(File.Exists(dir.File("m.bin")));
    }

    [Fact]
    public void SampleAndTrainTakeASafetensorsFolderDirectly()
    {
        using var dir = new TempDirectory();
        var sample = CliRunner.Run("sample", "--checkpoint", Fixture("tiny_hf"), "--prompt-tokens", "1,2,3", "--tokens", "5", "--temperature", "0", "--threads", "1");
        Assert.True(sample.Code == 0, sample.Err);
        var viaBin = CliRunner.Run("sample", "--checkpoint", Fixture("tiny_model.bin"), "--prompt-tokens", "1,2,3", "--tokens", "5", "--temperature", "0", "--threads", "1");
        Assert.Equal(viaBin.Out, sample.Out);

        // A char vocabulary smaller than the model's 97 tokens.
        File.WriteAllText(dir.File("input.txt"), string.Concat(Enumerable.Repeat("abc def ghi\n", 400)));
        Assert.Equal(0, CliRunner.Run("prepare", "--input", dir.File("input.txt"), "--out", dir.File("data"), "--tokenizer", "char").Code);
        var train = CliRunner.Run("train", "--data", dir.File("data"), "--out", dir.File("out"), "--init-from", Fixture("tiny_hf"), "--seq-len", "8",
            "--micro-batch", "2", "--max-steps", "1", "--val-every", "0", "--sample-every", "0", "--threads", "1");
        Assert.True(train.Code == 0, train.Out + train.Err);
        Assert.Contains("step     1/1 | loss", train.Out);
        Assert.Equal(LlmcCheckpoint.ReadConfig(Fixture("tiny_model.bin")), ModelFile.ReadConfig(Directory.GetFiles(dir.File("out"), "ckpt_*").Single()));
    }
}
