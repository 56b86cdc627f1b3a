using SharpGpt.Data;

namespace SharpGpt;

/// <summary>What <see cref="DataPreparer"/> wrote, and how many bytes of input it read.</summary>
public sealed record PrepareResult
{
    internal PrepareResult(string outputDirectory, PreparedDataMeta meta, IReadOnlyList<string> validationShards, IReadOnlyList<string> trainShards)
    {
        OutputDirectory = outputDirectory;
        Meta = meta;
        ValidationShards = validationShards;
        TrainShards = trainShards;
    }

    /// <summary>The prepared folder; <see cref="TrainingData.FromDirectory"/> reads it.</summary>
    public string OutputDirectory { get; }

    /// <summary>The tokenizer's name as the folder records it: "gpt2" or "char".</summary>
    public string TokenizerName => Meta.Tokenizer;

    /// <summary>The tokenizer's vocabulary size.</summary>
    public int VocabSize => Meta.VocabSize;

    /// <summary>Tokens in the train split.</summary>
    public long TrainTokens => Meta.TrainTokens;

    /// <summary>Tokens in the validation split.</summary>
    public long ValidationTokens => Meta.ValTokens;

    /// <summary>The train shards' paths, in order.</summary>
    public IReadOnlyList<string> TrainShards { get; }

    /// <summary>The validation shards' paths, in order (none when nothing was held out).</summary>
    public IReadOnlyList<string> ValidationShards { get; }

    /// <summary>Bytes of input read.</summary>
    public long InputBytes { get; init; }

    internal PreparedDataMeta Meta { get; }
}
