using System.CommandLine;
using System.CommandLine.Parsing;
using SharpGpt.Model;
using SharpGpt.Training;

namespace SharpGpt.Cli.Commands;

/// <summary>The resolved settings of a <c>train</c> run and where each came from: the flag that set it, else the recipe
/// (or the defaults), printed at the start of every run and in the dry run's plan.</summary>
internal static class TrainSettingSources
{
    public static IReadOnlyList<TrainingSetting> Describe(ParseResult r, TrainingRecipe recipe, GptConfig config, TrainingOptions o, string? microBatch, string memoryBudget)
    {
        string Source(params string[] flags) => flags.FirstOrDefault(f => r.GetResult(f) is OptionResult { Implicit: false }) ?? recipe.Label;
        string shape = Source("--init-from", "--preset");
        bool auto = string.Equals(microBatch, "auto", StringComparison.OrdinalIgnoreCase);
        return
        [
            new("layers", $"{config.NumLayers}", Source("--layers") is var l && l != recipe.Label ? l : shape),
            new("heads", $"{config.NumHeads}", Source("--heads") is var h && h != recipe.Label ? h : shape),
            new("embd", $"{config.Channels}", Source("--embd") is var e && e != recipe.Label ? e : shape),
            new("block_size", $"{config.MaxSeqLen}", Source("--block-size", "--init-from")),
            new("vocab", $"{config.VocabSize}", Source("--init-from") is var v && v != recipe.Label ? v : "data"),
            new("seq_len", $"{o.SeqLen}", Source("--seq-len")),
            new("total_batch_tokens", o.TotalBatchTokens > 0 ? $"{o.TotalBatchTokens}" : "one micro-batch", Source("--total-batch-tokens")),
            new("micro_batch", auto ? $"{o.MicroBatch} (auto, --memory-budget {memoryBudget})" : $"{o.MicroBatch}", Source("--micro-batch")),
            new("max_steps", $"{o.MaxSteps}", Source("--max-steps")),
            new("lr", Text(o.LearningRate), Source("--lr")),
            new("min_lr", Text(o.EffectiveMinLearningRate), Source("--min-lr") is var m && m != recipe.Label ? m
                : r.GetResult("--lr") is OptionResult { Implicit: false } ? $"{recipe.MinLrFraction * 100:0}% of --lr ({recipe.Label})" : recipe.Label),
            new("warmup", $"{o.WarmupSteps}", Source("--warmup")),
            new("beta1", Text(o.Adam.Beta1), Source("--beta1")),
            new("beta2", Text(o.Adam.Beta2), Source("--beta2")),
            new("eps", Text(o.Adam.Epsilon), recipe.Label),
            new("weight_decay", Text(o.Adam.WeightDecay), Source("--weight-decay")),
            new("grad_clip", Text(o.GradClip), Source("--grad-clip")),
            new("val_every", $"{o.ValEvery}", Source("--val-every")),
            new("val_steps", $"{o.ValSteps}", Source("--val-steps")),
            new("hellaswag_every", o.HellaSwagPath is null ? $"{o.HellaSwagEvery} (no --hellaswag: off)" : $"{o.HellaSwagEvery}", Source("--hellaswag-every")),
            new("checkpoint_every", $"{o.CheckpointEvery}", Source("--checkpoint-every")),
            new("sample_every", $"{o.SampleEvery}", Source("--sample-every")),
            new("batches", o.RandomWindows ? "random" : "sequential", Source("--batches")),
            new("seed", $"{o.Seed}", Source("--seed")),
        ];
    }

    public static void Print(TrainingRecipe recipe, IReadOnlyList<TrainingSetting> settings)
    {
        Console.WriteLine(recipe.IsNamed
            ? $"settings: recipe {recipe.Name} ({recipe.Source}); flags given override it"
            : $"settings: {recipe.Source}; flags given override them");
        int width = settings.Max(s => s.Name.Length);
        int valueWidth = settings.Max(s => s.Value.Length);
        foreach (var s in settings)
        {
            Console.WriteLine($"  {s.Name.PadRight(width)}  {s.Value.PadRight(valueWidth)}  {s.Source}");
        }
    }

    private static string Text(float value) => TrainingSetting.Format(value);
}
