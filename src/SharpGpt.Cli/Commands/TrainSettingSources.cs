using System.CommandLine;
using System.CommandLine.Parsing;
using SharpGpt.Model;
using SharpGpt.Training;

namespace SharpGpt.Cli.Commands;

/// <summary>The resolved settings of a <c>train</c> run and where each came from: the flag that set it, else the recipe
/// (or the defaults), printed at the start of every run and in the dry run's plan.</summary>
internal static class TrainSettingSources
{
    public static IReadOnlyList<TrainingSetting> Describe(ParseResult r, TrainingRecipe recipe, GptConfig config, TrainingOptions o)
    {
        string Source(params string[] flags) => flags.FirstOrDefault(f => r.GetResult(f) is OptionResult { Implicit: false }) ?? recipe.Label;
        string shape = Source("--init-from", "--preset");
        bool auto = string.Equals(r.GetValue<string?>("--micro-batch"), "auto", StringComparison.OrdinalIgnoreCase)
            || (r.GetValue<string?>("--micro-batch") is null && recipe.Options.MicroBatchSize is null);
        return
        [
            new("layers", $"{config.NumLayers}", Source("--layers") is var l && l != recipe.Label ? l : shape),
            new("heads", $"{config.NumHeads}", Source("--heads") is var h && h != recipe.Label ? h : shape),
            new("embd", $"{config.Channels}", Source("--embd") is var e && e != recipe.Label ? e : shape),
            new("block_size", $"{config.MaxSeqLen}", Source("--block-size", "--init-from")),
            new("vocab", $"{config.VocabSize}", Source("--init-from") is var v && v != recipe.Label ? v : "data"),
            new("seq_len", $"{o.SequenceLength}", Source("--seq-len")),
            new("total_batch_tokens", o.TotalBatchTokens > 0 ? $"{o.TotalBatchTokens}" : "one micro-batch", Source("--total-batch-tokens")),
            new("micro_batch", auto ? $"{o.MicroBatchSize} (auto, --memory-budget {r.GetValue<string>("--memory-budget")})" : $"{o.MicroBatchSize}", Source("--micro-batch")),
            new("max_steps", $"{o.MaxSteps}", Source("--max-steps", "--epochs") is var steps && steps != recipe.Label ? steps : o.Epochs is null ? recipe.Label : $"epochs ({recipe.Label})"),
            new("epochs", o.Epochs is double epochs ? Text((float)epochs) : "none: max_steps counts", Source("--epochs", "--max-steps")),
            new("lr", Text(o.LearningRate), Source("--lr")),
            new("min_lr", Text(o.MinLearningRate ?? o.LearningRate * 0.1f), Source("--min-lr") is var m && m != recipe.Label ? m
                : r.GetResult("--lr") is OptionResult { Implicit: false } ? $"{recipe.MinLearningRateFraction * 100:0}% of --lr ({recipe.Label})" : recipe.Label),
            new("warmup", $"{o.WarmupSteps}", Source("--warmup")),
            new("beta1", Text(o.Beta1), Source("--beta1")),
            new("beta2", Text(o.Beta2), Source("--beta2")),
            new("eps", Text(o.Epsilon), recipe.Label),
            new("weight_decay", Text(o.WeightDecay), Source("--weight-decay")),
            new("grad_clip", Text(o.GradientClip), Source("--grad-clip")),
            new("val_every", $"{o.ValidationInterval}", Source("--val-every")),
            new("val_steps", $"{o.ValidationBatches}", Source("--val-steps")),
            new("hellaswag_every", o.HellaSwagPath is null ? $"{o.HellaSwagInterval} (no --hellaswag: off)" : $"{o.HellaSwagInterval}", Source("--hellaswag-every")),
            new("checkpoint_every", $"{o.CheckpointInterval}", Source("--checkpoint-every")),
            new("sample_every", $"{o.SampleInterval}", Source("--sample-every")),
            new("batches", o.BatchOrder == BatchOrder.RandomWindows ? "random" : "sequential", Source("--batches")),
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
