using System.Globalization;
using System.Text.Json;
using SharpGpt.Data;
using SharpGpt.Kernels;
using SharpGpt.Model;
using SharpGpt.Tests.Cli;
using SharpGpt.Tests.Data;
using SharpGpt.Training;

namespace SharpGpt.Tests.FineTuning;

/// <summary><c>train --recipe gpt2-finetune --init-from MODEL --data DIR</c>: the published settings, epochs instead
/// of steps, every GPT-2 size, and a real fine-tune on the CPU and on the emulated GPU.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class FineTuneRecipeTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>Prompt/completion data in GPT-2 tokens, and a GPT-2-vocabulary model of block 1024 to fine-tune.</summary>
    private (string Data, string Model) Gpt2DataAndModel(int examples)
    {
        File.WriteAllLines(_temp.File("pc.jsonl"), Enumerable.Range(0, examples).Select(i =>
            JsonSerializer.Serialize(new { prompt = $"What is {i} plus {i % 7}?", completion = $"{i} plus {i % 7} is {i + (i % 7)}." })));
        var prepared = DataPreparer.Prepare([_temp.File("pc.jsonl")], _temp.File("data"), new PrepareOptions { ValidationFraction = 0.1 });
        using var model = GptModel.Create(new GptConfig(1024, 50257, 1, 1, 16), options: new GptModelOptions { Threads = 1 });
        model.Save(_temp.File("base.sgpt"));
        return (prepared.OutputDirectory, _temp.File("base.sgpt"));
    }

    [Fact]
    public void The_recipe_resolves_to_the_published_fine_tuning_settings_and_counts_epochs()
    {
        var (data, model) = Gpt2DataAndModel(400);

        var run = CliRunner.Run("train", "--recipe", "gpt2-finetune", "--init-from", model, "--data", data, "--out", _temp.File("out"),
            "--micro-batch", "2", "--dry-run", "--dry-run-steps", "0", "--threads", "1");

        Assert.True(run.Code == 0, run.Out + run.Err);
        var plan = JsonDocument.Parse(run.Out.TrimEnd().Split('\n')[^1]).RootElement;
        Assert.Equal("gpt2-finetune", plan.GetProperty("recipe").GetString());
        Assert.Equal(1024, plan.GetProperty("seq_len").GetInt32());
        Assert.Equal(32 * 1024, plan.GetProperty("total_batch_tokens").GetInt64());
        Assert.Equal(16, plan.GetProperty("accumulation_steps").GetInt32());
        Assert.Equal(3e-5, plan.GetProperty("lr").GetDouble());
        Assert.Equal(3e-5, plan.GetProperty("min_lr").GetDouble()); // constant
        Assert.Equal(0, plan.GetProperty("warmup").GetInt32());
        Assert.Equal(0.0, plan.GetProperty("weight_decay").GetDouble());
        Assert.Equal(5, plan.GetProperty("val_every").GetInt32());
        Assert.Equal(40, plan.GetProperty("val_steps").GetInt32());
        // Three passes over the packed rows: each pass is rows / B micro-steps, 16 to a step.
        var rows = new TokenDataLoader(TrainingData.FromDirectory(data).Train, 2, 1024).StepsPerEpoch;
        Assert.Equal((int)Math.Ceiling(3.0 * rows / 16), plan.GetProperty("max_steps").GetInt32());
        Assert.Contains("settings: recipe gpt2-finetune (nanoGPT config/finetune_shakespeare.py", run.Out);
        Assert.Matches(@"\n  epochs +3 +recipe gpt2-finetune\r?\n", run.Out);

        // Steps given count instead of the recipe's epochs; both at once is an error.
        var steps = CliRunner.Run("train", "--recipe", "gpt2-finetune", "--init-from", model, "--data", data, "--out", _temp.File("out"),
            "--micro-batch", "2", "--max-steps", "7", "--dry-run", "--dry-run-steps", "0", "--threads", "1");
        Assert.Equal(7, JsonDocument.Parse(steps.Out.TrimEnd().Split('\n')[^1]).RootElement.GetProperty("max_steps").GetInt32());
        var both = CliRunner.Run("train", "--recipe", "gpt2-finetune", "--init-from", model, "--data", data, "--max-steps", "7", "--epochs", "2", "--dry-run");
        Assert.Equal("sharpgpt train: --max-steps and --epochs: both set the length of the run; give one of them.", both.Err.Trim());
    }

    [Fact]
    public void The_recipe_needs_a_model_to_fine_tune()
    {
        var (data, _) = Gpt2DataAndModel(40);

        var run = CliRunner.Run("train", "--recipe", "gpt2-finetune", "--data", data, "--out", _temp.File("out"), "--dry-run");

        Assert.Equal(1, run.Code);
        Assert.StartsWith("sharpgpt train: --recipe gpt2-finetune: fine-tunes a pretrained model; give --init-from MODEL", run.Err.Trim());
    }

    [Theory]
    [InlineData("gpt2-124m")]
    [InlineData("gpt2-350m")]
    [InlineData("gpt2-774m")]
    [InlineData("gpt2-1558m")]
    public void The_recipe_fits_every_gpt2_size(string preset)
    {
        // Nothing in the recipe depends on the size (nanoGPT uses it for GPT-2 XL); its step of 32 sequences of 1024
        // splits into micro-batches that fit a machine with the model's own state and room for one sequence.
        var recipe = TrainingRecipe.Gpt2Finetune;
        Assert.Null(recipe.Model);
        var config = GptConfig.FromPreset(preset);
        using var runner = new ParallelRunner(1);
        var kernels = new CpuKernels(runner);
        long budget = BatchPlan.StateBytes(config) + (4 * Activations.BytesFor(config, kernels, 1, 1024, Precision.Fp32));

        var (plan, bytes) = BatchPlan.Auto(config, kernels, recipe.Options.TotalBatchTokens, recipe.Options.SequenceLength!.Value, 1, budget);

        Assert.Equal(32, plan.MicroBatch * plan.AccumulationSteps);
        Assert.InRange(plan.MicroBatch, 1, 4);
        Assert.True(bytes <= budget);
    }

    [Fact]
    public void A_fine_tune_runs_on_the_cpu_and_on_the_emulated_gpu_alike()
    {
        File.WriteAllLines(_temp.File("chat.jsonl"), Enumerable.Range(0, 40).Select(i => JsonSerializer.Serialize(new
        {
            messages = new object[] { new { role = "user", content = $"n{i % 10}?" }, new { role = "assistant", content = $"{i % 10}!" } },
        })));
        var prepared = DataPreparer.Prepare([_temp.File("chat.jsonl")], _temp.File("data"), new PrepareOptions { Tokenizer = TokenizerKind.Character, ValidationFraction = 0.2 });
        var tokenizer = TrainingData.FromDirectory(prepared.OutputDirectory).Tokenizer;
        using (var model = GptModel.Create(new GptConfig(32, tokenizer.VocabSize, 2, 2, 32), tokenizer, new GptModelOptions { Threads = 1, Seed = 9 }))
        {
            model.Save(_temp.File("base.sgpt"));
        }

        var losses = new Dictionary<string, float[]>();
        foreach (var device in new[] { "cpu", "cuda-emulated" })
        {
            string outDir = _temp.File(device);
            var run = CliRunner.Run("train", "--recipe", "gpt2-finetune", "--init-from", _temp.File("base.sgpt"), "--data", prepared.OutputDirectory, "--out", outDir,
                "--device", device, "--seq-len", "32", "--micro-batch", "2", "--total-batch-tokens", "128", "--max-steps", "3", "--lr", "1e-3",
                "--sample-tokens", "0", "--threads", "1");
            Assert.True(run.Code == 0, run.Out + run.Err);
            Assert.Contains("fine-tuning example(s) packed whole into", run.Out);
            losses[device] = [.. MetricsLog.Read(Path.Combine(outDir, "metrics.jsonl")).Select(m => m.Loss)];
            Assert.Equal("transcript", TrainingCheckpoint.ReadMetadata(TrainingCheckpoint.PathFor(outDir, 3)).ChatTemplate);
        }

        Assert.Equal(3, losses["cpu"].Length);
        for (int s = 0; s < 3; s++)
        {
            Assert.True(Math.Abs(losses["cpu"][s] - losses["cuda-emulated"][s]) <= 1e-4 * losses["cpu"][s],
                string.Create(CultureInfo.InvariantCulture, $"step {s + 1}: {losses["cpu"][s]} on the CPU, {losses["cuda-emulated"][s]} on the emulated GPU"));
        }
    }
}
