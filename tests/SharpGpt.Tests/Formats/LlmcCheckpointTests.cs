using System.Runtime.InteropServices;
using SharpGpt.Formats;
using SharpGpt.Kernels;
using SharpGpt.Model;
using SharpGpt.Tests.Model;

namespace SharpGpt.Tests.Formats;

public sealed class LlmcCheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sharpgpt-ckpt-").FullName;
    private readonly ParallelRunner _runner = new(1);

    public void Dispose()
    {
        _runner.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private string Saved(out float[] weights)
    {
        using var model = TestModels.Create(TestModels.Tiny, _runner);
        string path = Path.Combine(_dir, "model.bin");
        LlmcCheckpoint.Save(model, path);
        weights = TestModels.Copy(model.Parameters);
        return path;
    }

    private static int[] Header(string path) => MemoryMarshal.Cast<byte, int>(File.ReadAllBytes(path).AsSpan(0, 1024)).ToArray();

    private static void PatchHeader(string path, int index, int value)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.Write);
        f.Position = index * 4;
        f.Write(BitConverter.GetBytes(value));
    }

    [Fact]
    public void SaveThenLoadRoundTripsExactly()
    {
        string path = Saved(out float[] weights);
        int[] h = Header(path);
        Assert.Equal([20240326, 3, 16, 97, 2, 2, 32, 128], h[..8]);
        using var loaded = LlmcCheckpoint.Load(path, new CpuKernels(_runner));
        Assert.Equal(TestModels.Tiny, loaded.Config);
        Assert.True(TestModels.Copy(loaded.Parameters).AsSpan().SequenceEqual(weights));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp-*"));
    }

    [Fact]
    public void ReadsBf16Version5()
    {
        string path = Saved(out float[] weights);
        byte[] bytes = File.ReadAllBytes(path);
        var floats = MemoryMarshal.Cast<byte, float>(bytes.AsSpan(1024));
        string bf16Path = Path.Combine(_dir, "bf16.bin");
        using (var f = File.Create(bf16Path))
        {
            f.Write(bytes.AsSpan(0, 1024));
            foreach (float v in floats)
            {
                f.Write(BitConverter.GetBytes((ushort)(BitConverter.SingleToUInt32Bits(v) >> 16)));
            }
        }

        PatchHeader(bf16Path, 1, 5);
        using var loaded = LlmcCheckpoint.Load(bf16Path, new CpuKernels(_runner));
        float[] got = TestModels.Copy(loaded.Parameters);
        for (int i = 0; i < weights.Length; i++)
        {
            Assert.Equal(BitConverter.SingleToUInt32Bits(weights[i]) & 0xFFFF0000u, BitConverter.SingleToUInt32Bits(got[i]));
        }
    }

    [Fact]
    public void WrongMagicNamesTheFile()
    {
        string path = Saved(out _);
        PatchHeader(path, 0, 1234);
        var e = Assert.Throws<SharpGptException>(() => LlmcCheckpoint.Load(path, new CpuKernels(_runner)));
        Assert.Contains(path, e.Message);
        Assert.Contains("magic is 1234", e.Message);
    }

    [Fact]
    public void TruncatedFileIsRejected()
    {
        string path = Saved(out _);
        using (var f = new FileStream(path, FileMode.Open))
        {
            f.SetLength(f.Length - 8);
        }

        var e = Assert.Throws<SharpGptException>(() => LlmcCheckpoint.Load(path, new CpuKernels(_runner)));
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);

        File.WriteAllBytes(path, new byte[100]);
        e = Assert.Throws<SharpGptException>(() => LlmcCheckpoint.Load(path, new CpuKernels(_runner)));
        Assert.Contains("header alone needs 1024", e.Message);
    }

    [Fact]
    public void ChannelsNotDivisibleByHeadsNamesTheFields()
    {
        string path = Saved(out _);
        PatchHeader(path, 5, 3);
        var e = Assert.Throws<SharpGptException>(() => LlmcCheckpoint.Load(path, new CpuKernels(_runner)));
        Assert.Contains(path, e.Message);
        Assert.Contains("n_embd (32) is not divisible by n_head (3)", e.Message);
    }

    [Fact]
    public void UnknownVersionAndBadPaddingAreRejected()
    {
        string path = Saved(out _);
        PatchHeader(path, 1, 4);
        Assert.Contains("unsupported checkpoint version 4", Assert.Throws<SharpGptException>(() => LlmcCheckpoint.ReadConfig(path)).Message);
        PatchHeader(path, 1, 3);
        PatchHeader(path, 7, 100);
        Assert.Contains("padded_vocab_size is 100", Assert.Throws<SharpGptException>(() => LlmcCheckpoint.ReadConfig(path)).Message);
    }

    [Fact]
    public void MissingFileSaysSo()
    {
        string path = Path.Combine(_dir, "nope.bin");
        var e = Assert.Throws<SharpGptException>(() => LlmcCheckpoint.Load(path, new CpuKernels(_runner)));
        Assert.Contains(path, e.Message);
    }

    /// <summary>Sizes whose parameter count overflowed once ("expected 4611906479098692608 (-3458709398652715008
    /// parameters"): each field out of range is named before any arithmetic runs on it.</summary>
    [Theory]
    [InlineData(2, 1 << 30, "block_size (max sequence length) is 1073741824, out of range")]
    [InlineData(3, 2_000_000_000, "vocab_size is 2000000000, out of range")]
    [InlineData(4, 1 << 20, "n_layer is 1048576, out of range")]
    [InlineData(6, 1 << 30, "n_embd is 1073741824, out of range")]
    [InlineData(5, 64, "n_head is 64, out of range (at most 32)")]
    [InlineData(4, -5, "n_layer must be positive, got -5")]
    public void AbsurdSizesAreNamedNotOverflowed(int field, int value, string expected)
    {
        string path = Saved(out _);
        PatchHeader(path, field, value);
        var e = Assert.Throws<SharpGptException>(() => LlmcCheckpoint.Load(path, new CpuKernels(_runner)));
        Assert.Equal(path, e.Subject);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotMatch(@"-\d{4,}", e.Problem); // no wrapped-around size
    }

    [Fact]
    public void TheLargestSizesInRangeGiveAnExactLengthInsteadOfAnOverflow()
    {
        string path = Saved(out _);
        PatchHeader(path, 3, GptConfig.VocabSizeLimit);
        PatchHeader(path, 4, GptConfig.LayersLimit);
        PatchHeader(path, 5, 1);
        PatchHeader(path, 6, GptConfig.ChannelsLimit);
        PatchHeader(path, 7, GptConfig.VocabSizeLimit);
        var e = Assert.Throws<SharpGptException>(() => LlmcCheckpoint.Load(path, new CpuKernels(_runner)));
        long parameters = new ParameterLayout(new GptConfig(16, GptConfig.VocabSizeLimit, GptConfig.LayersLimit, 1, GptConfig.ChannelsLimit)).Total;
        Assert.True(parameters > 0);
        Assert.Contains($"truncated: {new FileInfo(path).Length} bytes, expected {1024 + (4 * parameters)} ({parameters} parameters", e.Message);
    }

    [Fact]
    public void AFileIsDescribedAsTheFormatItsMagicOrExtensionNames()
    {
        byte[] random = new byte[1024];
        new Random(7).NextBytes(random);
        var kernels = new CpuKernels(_runner);

        File.WriteAllBytes(Path.Combine(_dir, "random.sgpt"), random);
        Assert.Contains("not a SharpGPT checkpoint", Assert.Throws<SharpGptException>(() => ModelFile.Load(Path.Combine(_dir, "random.sgpt"), kernels)).Message);
        File.WriteAllBytes(Path.Combine(_dir, "random.bin"), random);
        Assert.Contains("not a llm.c GPT-2 checkpoint", Assert.Throws<SharpGptException>(() => ModelFile.Load(Path.Combine(_dir, "random.bin"), kernels)).Message);
        File.WriteAllBytes(Path.Combine(_dir, "random.pt"), random);
        Assert.Contains("not a model file", Assert.Throws<SharpGptException>(() => ModelFile.Load(Path.Combine(_dir, "random.pt"), kernels)).Message);
        File.WriteAllBytes(Path.Combine(_dir, "empty.pt"), []);
        Assert.Contains("the file is empty", Assert.Throws<SharpGptException>(() => ModelFile.Load(Path.Combine(_dir, "empty.pt"), kernels)).Message);

        // The magic wins over the extension: an llm.c checkpoint named .sgpt still loads.
        string llmc = Saved(out float[] weights);
        File.Copy(llmc, Path.Combine(_dir, "renamed.sgpt"));
        using var loaded = ModelFile.Load(Path.Combine(_dir, "renamed.sgpt"), kernels).Model;
        Assert.True(TestModels.Copy(loaded.Parameters).AsSpan().SequenceEqual(weights));
    }

    [Fact]
    public void ConfigValidationNamesTheField()
    {
        Assert.Contains("n_layer", Assert.Throws<SharpGptException>(() => new GptConfig(16, 97, 0, 2, 32).Validate()).Message);
        Assert.Equal(50304, GptConfig.Gpt2Small.PaddedVocabSize);
        Assert.Equal(128, new GptConfig(16, 97, 1, 1, 8).PaddedVocabSize);
        Assert.Equal(256, new GptConfig(16, 129, 1, 1, 8).PaddedVocabSize);
    }
}
