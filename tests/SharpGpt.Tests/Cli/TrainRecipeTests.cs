using System.Text.Json;
using SharpGpt.Cli.Commands;
using SharpGpt.Tests.Data;
using SharpGpt.Training;

namespace SharpGpt.Tests.Cli;

[Collection(ConsoleCollection.Name)]
public sealed class TrainRecipeTests
{
    /// <summary>GPT-2 data just large enough for a 124M micro-batch of 8 x 1024 in each split.</summary>
    private static string PrepareGpt2Data(TempDirectory dir)
    {
        FineWebSample.WriteParquet(dir.File("edu.parquet"), FineWebSample.Documents(120), rowsPerGroup: 40);
        var prepare = CliRunner.Run("prepare", "--input", dir.File("edu.parquet"), "--out", dir.File("data"), "--val-tokens", "10000");
        Assert.True(prepare.Code == 0, prepare.Err);
        return dir.File("data");
    }

    private static JsonElement LastLineJson(string output) =>
        JsonDocument.Parse(output.TrimEnd().Split('\n')[^1]).RootElement;

    [Fact]
    public void The_gpt2_124m_recipe_resolves_to_build_nanogpts_run()
    {
        using var dir = new TempDirectory();
        var data = PrepareGpt2Data(dir);

        var run = CliRunner.Run("train", "--data", data, "--out", dir.File("out"), "--recipe", "gpt2-124m", "--dry-run", "--dry-run-steps", "0");

        Assert.True(run.Code == 0, run.Out + run.Err);
        var plan = LastLineJson(run.Out);
        Assert.Equal("gpt2-124m", plan.GetProperty("recipe").GetString());
        Assert.Equal(12, plan.GetProperty("layers").GetInt32());
        Assert.Equal(12, plan.GetProperty("heads").GetInt32());
        Assert.Equal(768, plan.GetProperty("embd").GetInt32());
        Assert.Equal(1024, plan.GetProperty("seq_len").GetInt32());
        Assert.Equal(124_439_808, plan.GetProperty("parameters").GetInt64());
        Assert.Equal(524_288, plan.GetProperty("total_batch_tokens").GetInt64());
        var micro = plan.GetProperty("micro_batch").GetInt32();
        Assert.Equal(512, micro * plan.GetProperty("accumulation_steps").GetInt32()); // auto: 524,288 / 1024 sequences
        Assert.True(plan.GetProperty("memory_bytes").GetInt64() <= 8L << 30);
        Assert.Equal(19_073, plan.GetProperty("max_steps").GetInt32());
        Assert.Equal(6e-4, plan.GetProperty("lr").GetDouble());
        Assert.Equal(6e-5, plan.GetProperty("min_lr").GetDouble());
        Assert.Equal(715, plan.GetProperty("warmup").GetInt32());
        Assert.Equal(0.1, plan.GetProperty("weight_decay").GetDouble());
        Assert.Equal(1.0, plan.GetProperty("grad_clip").GetDouble());
        Assert.Equal(0.9, plan.GetProperty("beta1").GetDouble());
        Assert.Equal(0.95, plan.GetProperty("beta2").GetDouble());
        Assert.Equal(1e-8, plan.GetProperty("eps").GetDouble());
        Assert.Equal(250, plan.GetProperty("val_every").GetInt32());
        Assert.Equal(20, plan.GetProperty("val_steps").GetInt32());
        Assert.Equal(250, plan.GetProperty("hellaswag_every").GetInt32());
        Assert.Equal(5000, plan.GetProperty("checkpoint_every").GetInt32());
        Assert.Equal(19_073L * 524_288, plan.GetProperty("tokens_total").GetInt64());
        Assert.Equal(JsonValueKind.Null, plan.GetProperty("est_seconds").ValueKind);
        Assert.Contains("settings: recipe gpt2-124m (build-nanogpt", run.Out);
        Assert.Matches(@"\n  warmup +715 +recipe gpt2-124m\r?\n", run.Out);
        Assert.False(Directory.Exists(dir.File("out")) && Directory.EnumerateFileSystemEntries(dir.File("out")).Any()); // nothing trained, nothing written
    }

    [Fact]
    public void Flags_given_override_the_recipe_and_say_so()
    {
        using var dir = new TempDirectory();
        var data = PrepareGpt2Data(dir);

        var run = CliRunner.Run("train", "--data", data, "--out", dir.File("out"), "--recipe", "gpt2-124m", "--layers", "2", "--heads", "2", "--embd", "32",
            "--seq-len", "32", "--total-batch-tokens", "2048", "--micro-batch", "4", "--lr", "1e-3", "--max-steps", "10", "--val-every", "5",
            "--dry-run", "--dry-run-steps", "1", "--threads", "1");

        Assert.True(run.Code == 0, run.Out + run.Err);
        var plan = LastLineJson(run.Out);
        Assert.Equal(2, plan.GetProperty("layers").GetInt32());
        Assert.Equal(32, plan.GetProperty("embd").GetInt32());
        Assert.Equal(4, plan.GetProperty("micro_batch").GetInt32());
        Assert.Equal(16, plan.GetProperty("accumulation_steps").GetInt32());
        Assert.Equal(10, plan.GetProperty("max_steps").GetInt32());
        Assert.Equal(1e-3, plan.GetProperty("lr").GetDouble());
        Assert.Equal(1e-4, plan.GetProperty("min_lr").GetDouble(), 9); // 10% of the given lr
        Assert.Equal(715, plan.GetProperty("warmup").GetInt32()); // still the recipe's
        Assert.Equal(5, plan.GetProperty("val_every").GetInt32());
        Assert.Equal(4, plan.GetProperty("timed_micro_batch").GetInt32());
        Assert.True(plan.GetProperty("est_seconds").GetDouble() > 0);
        Assert.Matches(@"\n  lr +1e-3 +--lr\r?\n", run.Out);
        Assert.Matches(@"\n  min_lr +1e-4 +10% of --lr \(recipe gpt2-124m\)\r?\n", run.Out);
        Assert.Matches(@"\n  layers +2 +--layers\r?\n", run.Out);
        Assert.Matches(@"\n  heads +2 +--heads\r?\n", run.Out);
        Assert.Matches(@"\n  beta2 +0.95 +recipe gpt2-124m\r?\n", run.Out);
        Assert.Matches(@"estimate +\d+ s: training \d+ s", run.Out);
    }

    [Fact]
    public void A_run_prints_where_each_setting_came_from_and_trains()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("input.txt"), string.Concat(Enumerable.Repeat("To be, or not to be, that is the question.\n", 300)));
        Assert.Equal(0, CliRunner.Run("prepare", "--input", dir.File("input.txt"), "--out", dir.File("data"), "--tokenizer", "char").Code);

        var run = CliRunner.Run("train", "--data", dir.File("data"), "--out", dir.File("out"), "--layers", "1", "--heads", "2", "--embd", "16", "--seq-len", "16",
            "--micro-batch", "2", "--max-steps", "2", "--threads", "1", "--weight-decay", "0.05");

        Assert.True(run.Code == 0, run.Out + run.Err);
        Assert.Contains("settings: SharpGPT's defaults for --data; flags given override them", run.Out);
        Assert.Matches(@"\n  weight_decay +0.05 +--weight-decay\r?\n", run.Out);
        Assert.Matches(@"\n  warmup +10 +default\r?\n", run.Out);
        Assert.Matches(@"\n  vocab +\d+ +data\r?\n", run.Out);
        Assert.Contains("step     2/2 | loss", run.Out);
    }

    [Fact]
    public void A_recipe_needs_prepared_data_and_a_known_name()
    {
        using var dir = new TempDirectory();

        var noData = CliRunner.Run("train", "--out", dir.File("out"), "--recipe", "gpt2-124m", "--dry-run");
        var unknown = CliRunner.Run("train", "--out", dir.File("out"), "--recipe", "gpt2-7b", "--dry-run");

        Assert.Equal(1, noData.Code);
        Assert.Equal("sharpgpt train: --recipe gpt2-124m: trains on GPT-2 tokens and needs --data; give --data DIR, made by 'sharpgpt prepare'", noData.Err.Trim());
        Assert.Equal(2, unknown.Code); // the parser's usage error: --recipe takes one of the names
        Assert.Contains("gpt2-7b", unknown.Err);
    }

    [Fact]
    public void Every_named_recipe_is_resolvable_and_the_defaults_stay_unnamed()
    {
        Assert.Equal(["gpt2-124m", "gpt2-350m", "gpt2-774m", "gpt2-1558m", "gpt2-finetune"], TrainingRecipe.Named.Select(r => r.Name));
        Assert.All(TrainingRecipe.Named, r => Assert.Same(r, TrainCommand.ResolveRecipe(r.Name.ToUpperInvariant(), hasData: true)));
        Assert.Same(TrainingRecipe.ShakespeareChar, TrainCommand.ResolveRecipe(null, hasData: false));
        Assert.Same(TrainingRecipe.DataDefaults, TrainCommand.ResolveRecipe(null, hasData: true));
        Assert.Equal("default", TrainingRecipe.DataDefaults.Label);
        Assert.Equal("recipe gpt2-350m", TrainingRecipe.Gpt2_350M.Label);
    }
}
