using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using SharpGpt.Eval;
using SharpGpt.Formats;
using SharpGpt.Kernels;
using SharpGpt.Model;
using SharpGpt.Tests.Data;
using SharpGpt.Tests.Eval;
using SharpGpt.Tests.Kernels;

namespace SharpGpt.Tests.Formats;

/// <summary>Hugging Face GPT-2 safetensors against the PyTorch fixtures (tools/reference/make_hf_fixture.py
/// turned tiny_model.bin into HF's layout and checked it with an HF-style forward).</summary>
public sealed class HuggingFaceGpt2Tests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ParallelRunner _runner = new(2);

    public void Dispose()
    {
        _runner.Dispose();
        _dir.Dispose();
    }

    private CpuKernels Kernels => new(_runner);

    private static string Fixture(string name) => ReferenceFixtureTests.FixturePath(name);

    private float[] TinyWeights()
    {
        using var model = LlmcCheckpoint.Load(Fixture("tiny_model.bin"), Kernels);
        return model.Parameters.Span.ToArray();
    }

    [Fact]
    public void TheHfFolderImportsToTheReferenceWeightsAndPassesVerify()
    {
        var (model, info) = HuggingFaceGpt2.Import(Fixture("tiny_hf"), Kernels);
        using (model)
        {
            Assert.Equal(LlmcCheckpoint.ReadConfig(Fixture("tiny_model.bin")), model.Config);
            Assert.Equal("transformer.", info.KeyPrefix);
            Assert.Equal(["F32"], info.DTypes);
            Assert.Equal(4, info.IgnoredTensors.Count); // attn.bias and attn.masked_bias of 2 layers
            Assert.EndsWith("config.json", info.ConfigPath);
            Assert.Equal(TinyWeights(), model.Parameters.Span.ToArray());

            var report = ReferenceVerifier.Verify(model, LlmcDebugState.Read(Fixture("tiny_state.bin"), model.Config));
            Assert.True(report.Ok);
            Assert.InRange(report.Logits.MaxAbsDifference, 0, 1e-4);
        }
    }

    [Theory]
    [InlineData("tiny_hf_bf16.safetensors", "BF16")]
    [InlineData("tiny_hf_f16.safetensors", "F16")]
    public void HalfPrecisionFilesWidenExactlyAndTakeTheHeadCountFromTheCaller(string name, string dtype)
    {
        var e = Assert.Throws<SharpGptException>(() => HuggingFaceGpt2.Load(Fixture(name), Kernels));
        Assert.Contains("give HuggingFaceHeads", e.Message);

        var (model, info) = HuggingFaceGpt2.Import(Fixture(name), Kernels, heads: 2);
        using (model)
        {
            Assert.Null(info.ConfigPath);
            Assert.Equal([dtype], info.DTypes);
            Assert.Equal(dtype == "BF16", info.HadLmHead);
            Assert.Equal(dtype == "BF16" ? "" : "transformer.", info.KeyPrefix);
            Assert.Equal(LlmcCheckpoint.ReadConfig(Fixture("tiny_model.bin")), model.Config);
            float[] expected = [.. TinyWeights().Select(v => dtype == "BF16" ? RoundToBf16(v) : (float)(Half)v)];
            Assert.Equal(expected, model.Parameters.Span.ToArray());
        }
    }

    /// <summary>float32 to bfloat16, round to nearest even (as torch's .to(torch.bfloat16)), widened back.</summary>
    private static float RoundToBf16(float v)
    {
        uint bits = BitConverter.SingleToUInt32Bits(v);
        bits += 0x7FFF + ((bits >> 16) & 1);
        return BitConverter.UInt32BitsToSingle(bits & 0xFFFF0000);
    }

    [Theory]
    [InlineData("tiny_model.bin")]
    [InlineData("odd_model.bin")]
    [InlineData("wide_model.bin")]
    public void ExportThenImportIsLossless(string fixture)
    {
        using var original = LlmcCheckpoint.Load(Fixture(fixture), Kernels);
        string dir = _dir.File("export-" + fixture);
        HuggingFaceGpt2.Save(original, dir);
        Assert.Equal([HuggingFaceGpt2Config.FileName, HuggingFaceGpt2.WeightsFileName], Directory.GetFiles(dir).Select(Path.GetFileName).Order());

        using var back = HuggingFaceGpt2.Load(dir, Kernels);
        Assert.Equal(original.Config, back.Config);
        Assert.Equal(original.Parameters.Span.ToArray(), back.Parameters.Span.ToArray());

        // And once more: the second export is byte-identical to the first.
        string again = _dir.File("again-" + fixture);
        HuggingFaceGpt2.Save(back, again);
        Assert.Equal(File.ReadAllBytes(Path.Combine(dir, HuggingFaceGpt2.WeightsFileName)), File.ReadAllBytes(Path.Combine(again, HuggingFaceGpt2.WeightsFileName)));
    }

    [Fact]
    public void TheExportHasTheLayoutAndConfigTransformersExpects()
    {
        using var original = LlmcCheckpoint.Load(Fixture("tiny_model.bin"), Kernels);
        string dir = _dir.File("export");
        HuggingFaceGpt2.Save(original, dir);
        using (var file = SafeTensorsFile.Open(Path.Combine(dir, HuggingFaceGpt2.WeightsFileName)))
        {
            Assert.Equal("pt", file.Metadata["format"]);
            using var reference = SafeTensorsFile.Open(Path.Combine(Fixture("tiny_hf"), HuggingFaceGpt2.WeightsFileName));
            var parameters = reference.Tensors.Keys.Where(k => !k.EndsWith(".attn.bias", StringComparison.Ordinal) && !k.EndsWith(".attn.masked_bias", StringComparison.Ordinal));
            Assert.Equal(parameters.Order(), file.Tensors.Keys.Order());
            foreach (var (name, tensor) in file.Tensors)
            {
                Assert.Equal(reference.Tensors[name].Shape, tensor.Shape);
                Assert.Equal(reference.ReadFloats(reference.Tensors[name]), file.ReadFloats(tensor));
            }

            Assert.Equal([32L, 96L], file.Tensors["transformer.h.0.attn.c_attn.weight"].Shape); // Conv1D [in, out]
        }

        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, HuggingFaceGpt2Config.FileName)));
        var root = config.RootElement;
        Assert.Equal("gpt2", root.GetProperty("model_type").GetString());
        Assert.Equal("GPT2LMHeadModel", root.GetProperty("architectures")[0].GetString());
        Assert.Equal("gelu_new", root.GetProperty("activation_function").GetString());
        Assert.True(root.GetProperty("tie_word_embeddings").GetBoolean());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("n_inner").ValueKind);
        Assert.Equal(97, root.GetProperty("vocab_size").GetInt32());
        Assert.Equal(16, root.GetProperty("n_positions").GetInt32());
        Assert.Equal(2, root.GetProperty("n_head").GetInt32());
    }

    [Fact]
    public void ModelFileOpensAFolderOrASafetensorsFileDirectly()
    {
        var (model, tokenizer) = ModelFile.Load(Fixture("tiny_hf"), Kernels);
        using (model)
        {
            Assert.Null(tokenizer);
            Assert.Equal(TinyWeights(), model.Parameters.Span.ToArray());
        }

        string file = Path.Combine(Fixture("tiny_hf"), HuggingFaceGpt2.WeightsFileName);
        Assert.Equal(model.Config, ModelFile.ReadConfig(file)); // config.json beside the file
        var e = Assert.Throws<SharpGptException>(() => ModelFile.Load(_dir.Path, Kernels));
        Assert.Contains("holds no model.safetensors", e.Message);
    }

    // ---- bad checkpoints: a copy of the F32 fixture with one thing changed

    private string CopyOfFixture(Func<Dictionary<string, (string DType, long[] Shape, byte[] Data)>, Dictionary<string, (string, long[], byte[])>>? edit = null,
        Func<string, string>? editConfig = null)
    {
        string source = Fixture("tiny_hf");
        var tensors = new Dictionary<string, (string, long[], byte[])>();
        using (var file = SafeTensorsFile.Open(Path.Combine(source, HuggingFaceGpt2.WeightsFileName)))
        {
            byte[] raw = File.ReadAllBytes(file.Path);
            foreach (var (name, t) in file.Tensors)
            {
                tensors[name] = (t.DType, t.Shape, raw[(int)(file.DataStart + t.Begin)..(int)(file.DataStart + t.End)]);
            }
        }

        tensors = edit?.Invoke(tensors) ?? tensors;
        string dir = _dir.File("bad-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        WriteRaw(Path.Combine(dir, HuggingFaceGpt2.WeightsFileName), tensors);
        string config = File.ReadAllText(Path.Combine(source, HuggingFaceGpt2Config.FileName));
        File.WriteAllText(Path.Combine(dir, HuggingFaceGpt2Config.FileName), editConfig?.Invoke(config) ?? config);
        return dir;
    }

    private static void WriteRaw(string path, Dictionary<string, (string DType, long[] Shape, byte[] Data)> tensors)
    {
        var header = new StringBuilder("{");
        long offset = 0;
        foreach (var (name, (dtype, shape, data)) in tensors)
        {
            header.Append($"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{offset},{offset + data.Length}]}},");
            offset += data.Length;
        }

        header.Length--;
        header.Append('}');
        byte[] json = Encoding.UTF8.GetBytes(header.ToString());
        using var f = File.Create(path);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)json.Length);
        f.Write(length);
        f.Write(json);
        foreach (var (_, (_, _, data)) in tensors)
        {
            f.Write(data);
        }
    }

    private void Rejects(string dir, params string[] phrases)
    {
        var e = Assert.Throws<SharpGptException>(() => HuggingFaceGpt2.Load(dir, Kernels));
        foreach (string phrase in phrases)
        {
            Assert.Contains(phrase, e.Message);
        }
    }

    [Fact]
    public void AnUnchangedCopyImports()
    {
        using var model = HuggingFaceGpt2.Load(CopyOfFixture(), Kernels);
        Assert.Equal(TinyWeights(), model.Parameters.Span.ToArray());
    }

    [Fact]
    public void AMissingTensorIsNamed() =>
        Rejects(CopyOfFixture(t => { t.Remove("transformer.h.1.mlp.c_fc.bias"); return t; }), "'transformer.h.1.mlp.c_fc.bias' is missing");

    [Fact]
    public void AnUntransposedConv1DWeightIsAShapeError() => Rejects(CopyOfFixture(t =>
    {
        var (dtype, _, data) = t["transformer.h.0.attn.c_attn.weight"];
        t["transformer.h.0.attn.c_attn.weight"] = (dtype, [96, 32], data);
        return t;
    }), "'transformer.h.0.attn.c_attn.weight' has shape [96, 32], expected [32, 96]");

    [Fact]
    public void AConfigThatDisagreesWithTheTensorsIsAShapeError() =>
        Rejects(CopyOfFixture(editConfig: c => c.Replace("\"vocab_size\": 97", "\"vocab_size\": 98", StringComparison.Ordinal)), "wte.weight' has shape [97, 32], expected [98, 32]");

    [Theory]
    [InlineData("\"activation_function\": \"gelu_new\"", "\"activation_function\": \"relu\"", "activation_function \"relu\" is not supported")]
    [InlineData("\"layer_norm_epsilon\": 1e-05", "\"layer_norm_epsilon\": 1e-06", "layer_norm_epsilon 1e-06")]
    [InlineData("\"n_inner\": null", "\"n_inner\": 100", "n_inner 100")]
    [InlineData("\"model_type\": \"gpt2\"", "\"model_type\": \"llama\"", "model_type is \"llama\"")]
    [InlineData("\"n_head\": 2", "\"n_head\": 3", "not divisible by n_head (3)")]
    [InlineData("\"n_layer\": 2", "\"n_layer\": \"2\"", "\"n_layer\" is \"2\", not a positive integer")]
    public void AnUnsupportedConfigIsRefused(string from, string to, string phrase) =>
        Rejects(CopyOfFixture(editConfig: c => c.Replace(from, to, StringComparison.Ordinal)), "config.json", phrase);

    [Fact]
    public void AnUnknownTensorIsRefused() => Rejects(CopyOfFixture(t =>
    {
        t["transformer.h.2.ln_1.weight"] = t["transformer.h.1.ln_1.weight"];
        return t;
    }), "does not have: transformer.h.2.ln_1.weight");

    [Fact]
    public void AnUntiedLmHeadIsRefusedAndATiedOneAccepted()
    {
        string tied = CopyOfFixture(t =>
        {
            t["lm_head.weight"] = t["transformer.wte.weight"];
            return t;
        });
        using (var model = HuggingFaceGpt2.Load(tied, Kernels))
        {
            Assert.Equal(TinyWeights(), model.Parameters.Span.ToArray());
        }

        Rejects(CopyOfFixture(t =>
        {
            var (dtype, shape, data) = t["transformer.wte.weight"];
            byte[] changed = (byte[])data.Clone();
            changed[4 * 33] ^= 0x40;
            t["lm_head.weight"] = (dtype, shape, changed);
            return t;
        }), "lm_head.weight differs from wte.weight (first at row 1, column 1", "untied");
    }

    [Fact]
    public void IntegerWeightsAreRefused() => Rejects(CopyOfFixture(t =>
    {
        var (_, shape, data) = t["transformer.ln_f.bias"];
        t["transformer.ln_f.bias"] = ("I32", shape, data);
        return t;
    }), "'transformer.ln_f.bias' has dtype I32");

    [Fact]
    public void HeadsThatDisagreeWithConfigJsonAreRefused() =>
        Assert.Contains("HuggingFaceHeads: 4 disagrees with n_head 2", Assert.Throws<SharpGptException>(() => HuggingFaceGpt2.Load(Fixture("tiny_hf"), Kernels, heads: 4)).Message);

    [Fact]
    public void AShardedFolderIsNamedAsUnsupported()
    {
        string dir = _dir.File("sharded");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "model.safetensors.index.json"), "{}");
        Assert.Contains("sharded", Assert.Throws<SharpGptException>(() => HuggingFaceGpt2.Load(dir, Kernels)).Message);
    }
}
