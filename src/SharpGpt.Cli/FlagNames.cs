using System.Text.RegularExpressions;

namespace SharpGpt.Cli;

/// <summary>
/// The library names what is wrong by its API's names (an options property, a method's parameter); the command
/// line prints the flag that sets it instead. A name is translated wherever it stands as a whole word in a message.
/// </summary>
internal static partial class FlagNames
{
    private static readonly Dictionary<string, string> Everywhere = new(StringComparer.Ordinal)
    {
        // TrainingOptions
        ["MaxSteps"] = "--max-steps",
        ["Epochs"] = "--epochs",
        ["SequenceLength"] = "--seq-len",
        ["MicroBatchSize"] = "--micro-batch",
        ["TotalBatchTokens"] = "--total-batch-tokens",
        ["MemoryBudgetBytes"] = "--memory-budget",
        ["LearningRate"] = "--lr",
        ["MinLearningRate"] = "--min-lr",
        ["WarmupSteps"] = "--warmup",
        ["Beta1"] = "--beta1",
        ["Beta2"] = "--beta2",
        ["WeightDecay"] = "--weight-decay",
        ["GradientClip"] = "--grad-clip",
        ["BatchOrder"] = "--batches",
        ["ValidationInterval"] = "--val-every",
        ["ValidationBatches"] = "--val-steps",
        ["FinalValidationBatches"] = "--final-val-steps",
        ["HellaSwagPath"] = "--hellaswag",
        ["HellaSwagInterval"] = "--hellaswag-every",
        ["HellaSwagLimit"] = "--hellaswag-limit",
        ["SampleInterval"] = "--sample-every",
        ["SampleTokens"] = "--sample-tokens",
        ["OutputDirectory"] = "--out",
        ["CheckpointInterval"] = "--checkpoint-every",
        ["Resume"] = "--resume",
        ["Parallelism"] = "--parallel",
        ["ZeroStage"] = "--zero",
        ["CollectiveChunkFloats"] = "--comm-chunk",

        // PrepareOptions
        ["Tokenizer"] = "--tokenizer",
        ["ValidationFraction"] = "--val-fraction",
        ["ValidationTokens"] = "--val-tokens",
        ["ShardTokens"] = "--shard-tokens",
        ["TextColumn"] = "--text-column",
        ["Format"] = "--format",

        // GptModelOptions
        ["Device"] = "--device",
        ["Precision"] = "--dtype",
        ["Threads"] = "--threads",
        ["HuggingFaceHeads"] = "--heads",

        // GenerationOptions
        ["MaxTokens"] = "--tokens",
        ["Temperature"] = "--temperature",
        ["TopK"] = "--top-k",
        ["TopP"] = "--top-p",
        ["StopSequences"] = "--stop",

        // Method parameters
        ["prompt"] = "--prompt",
        ["promptTokens"] = "--prompt-tokens",
    };

    private static readonly Dictionary<string, Dictionary<string, string>> ByCommand = new(StringComparer.Ordinal)
    {
        ["eval"] = new(StringComparer.Ordinal) { ["batches"] = "--steps", ["batchSize"] = "--batch", ["sequenceLength"] = "--seq" },
        ["hellaswag"] = new(StringComparer.Ordinal) { ["limit"] = "--limit" },
        ["serve"] = new(StringComparer.Ordinal)
        {
            ["Host"] = "--host",
            ["Port"] = "--port",
            ["ApiKey"] = "--api-key",
            ["ModelId"] = "--model-id",
            ["MaxBatchSize"] = "--max-batch",
            ["MaxQueueLength"] = "--max-queue",
            ["MaxRequestBodyBytes"] = "--max-body-bytes",
            ["model"] = "--checkpoint",
        },
    };

    /// <summary>The flag of an API name for <paramref name="command"/>, or null when it has none.</summary>
    public static string? Of(string command, string name) =>
        ByCommand.TryGetValue(command, out var own) && own.TryGetValue(name, out var flag) ? flag
        : Everywhere.TryGetValue(name, out flag) ? flag : null;

    /// <summary>The text with every options property that has a flag replaced by the flag. (A method's parameter, a
    /// plain lower-case word, is translated only where it is the exception's parameter: see <see cref="Of"/>.)</summary>
    public static string Translate(string command, string text) =>
        Property().Replace(text, m => Of(command, m.Value) ?? m.Value);

    [GeneratedRegex(@"(?<![\w-])[A-Z][A-Za-z0-9]*(?![\w-])")]
    private static partial Regex Property();
}
