using SharpGpt.Formats;
using SharpGpt.Kernels;
using SharpGpt.Tests.Data;

namespace SharpGpt.Tests.Api;

/// <summary>Opening, creating and saving models through the public API.</summary>
public sealed class GptModelTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    [Theory]
    [InlineData("tiny_model.bin")]
    [InlineData("tiny_hf")]
    [InlineData("tiny_hf/model.safetensors")]
    public void Opens_every_model_file_the_cli_reads_with_the_shape_it_holds(string name)
    {
        using var model = GptModel.Open(Fixture(name), ApiModels.Cpu());
        var expected = ModelFile.ReadConfig(Fixture(name));
        Assert.Equal(expected, model.Config);
        Assert.Equal(ComputeDevice.Cpu, model.Device);
        Assert.Equal(expected.ParameterCount, model.ParameterCount);
        Assert.Contains(name.Split('/')[0], model.Source);
    }

    [Fact]
    public void A_saved_checkpoint_reopens_with_its_weights_tokenizer_and_generations()
    {
        using var temp = new TempDirectory();
        using var model = ApiModels.Characters(seed: 5);
        var greedy = new GenerationOptions { MaxTokens = 20, Temperature = 0 };
        string before = model.Generate("abc", greedy).Text;
        model.Save(temp.File("m.sgpt"));

        using var reopened = GptModel.Open(temp.File("m.sgpt"), ApiModels.Cpu());
        Assert.Equal(model.Config, reopened.Config);
        Assert.Equal("char", reopened.Tokenizer!.Name);
        Assert.Equal(ApiModels.Alphabet.Distinct().Count(), reopened.Tokenizer.VocabSize);
        Assert.Equal(before, reopened.Generate("abc", greedy).Text);
        Assert.Null(reopened.ChatTemplate);
    }

    [Fact]
    public void The_same_seed_gives_the_same_weights_and_another_seed_others()
    {
        using var temp = new TempDirectory();
        using (var a = ApiModels.Characters(seed: 9))
        using (var b = ApiModels.Characters(seed: 9))
        using (var c = ApiModels.Characters(seed: 10))
        {
            a.Save(temp.File("a.bin"));
            b.Save(temp.File("b.bin"));
            c.Save(temp.File("c.bin"));
        }

        Assert.Equal(File.ReadAllBytes(temp.File("a.bin")), File.ReadAllBytes(temp.File("b.bin")));
        Assert.NotEqual(File.ReadAllBytes(temp.File("a.bin")), File.ReadAllBytes(temp.File("c.bin")));
    }

    [Fact]
    public void An_exported_hugging_face_folder_scores_a_text_as_the_model_does()
    {
        using var temp = new TempDirectory();
        using var model = ApiModels.Gpt2Vocabulary(seed: 3);
        model.ExportHuggingFace(temp.File("hf"));
        using var exported = GptModel.Open(temp.File("hf"), ApiModels.Cpu());
        const string text = "The quick brown fox jumps over the lazy dog.";
        Assert.Equal(model.Score(text), exported.Score(text));
        Assert.Same(GptTokenizer.Gpt2, exported.Tokenizer);
    }

    [Fact]
    public void Errors_name_the_file_or_the_parameter()
    {
        using var temp = new TempDirectory();
        string missing = temp.File("missing.bin");
        var notFound = Assert.Throws<SharpGptException>(() => GptModel.Open(missing));
        Assert.Equal(missing, notFound.Subject);
        Assert.Contains("not found", notFound.Problem);

        File.WriteAllText(temp.File("notes.txt"), "hello");
        var notAModel = Assert.Throws<SharpGptException>(() => GptModel.Open(temp.File("notes.txt")));
        Assert.Contains("not a model file", notAModel.Message);

        Assert.Equal("Threads", Assert.Throws<ArgumentOutOfRangeException>(() => GptModel.Open(Fixture("tiny_model.bin"), new GptModelOptions { Threads = -1 })).ParamName);
        Assert.Equal("config", Assert.Throws<ArgumentException>(() => GptModel.Create(new GptConfig(16, 65, 2, 3, 32))).ParamName);
        Assert.Equal("tokenizer", Assert.Throws<ArgumentException>(() => GptModel.Create(new GptConfig(16, 10, 1, 1, 8), GptTokenizer.Gpt2)).ParamName);
        using var model = ApiModels.Characters();
        Assert.Equal("path", Assert.Throws<ArgumentException>(() => model.Save(temp.File("m.onnx"))).ParamName);
        Assert.Equal("name", Assert.Throws<ArgumentException>(() => GptConfig.FromPreset("gpt9")).ParamName);
    }

    [Fact]
    public void Presets_are_the_four_gpt2_releases()
    {
        Assert.Equal(124_439_808, GptConfig.FromPreset("gpt2").ParameterCount);
        Assert.Equal(GptConfig.Gpt2Medium, GptConfig.FromPreset("GPT2-350M"));
        Assert.Equal(GptConfig.Gpt2XL, GptConfig.FromPreset("d48"));
        Assert.Equal(GptConfig.PresetNames.Count, GptConfig.PresetNames.Select(GptConfig.FromPreset).Distinct().Count());
    }

    [Fact]
    public void A_model_takes_turns_and_can_be_used_from_several_threads()
    {
        using var model = ApiModels.Characters(seed: 2);
        var greedy = new GenerationOptions { MaxTokens = 30, Temperature = 0 };
        string alone = model.Generate("hello", greedy).Text;
        var texts = Enumerable.Range(0, 6).AsParallel().WithDegreeOfParallelism(3).Select(_ => model.Generate("hello", greedy).Text).ToList();
        Assert.All(texts, text => Assert.Equal(alone, text));
    }

    [Fact]
    public void A_disposed_model_says_so()
    {
        var model = ApiModels.Characters();
        model.Dispose();
        model.Dispose();
        Assert.Throws<ObjectDisposedException>(() => model.Generate("a"));
    }

    [Fact]
    public void The_network_of_a_bf16_model_runs_in_bf16()
    {
        using var model = GptModel.Open(Fixture("tiny_model.bin"), ApiModels.Cpu() with { Precision = Precision.Bf16 });
        Assert.Equal(Precision.Bf16, model.Precision);
        Assert.Equal(Precision.Bf16, model.Network.Precision);
        Assert.IsType<CpuKernels>(model.Network.Kernels);
    }
}
