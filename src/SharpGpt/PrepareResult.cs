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

    /// <summary>What the records held (never <see cref="DataFormat.Auto"/>): for prompt/completion pairs and
    /// conversations the shards have loss masks and the folder records <see cref="ChatTemplate.Transcript"/>.</summary>
    public DataFormat Format => Meta.Format switch
    {
        "chat" => DataFormat.Chat,
        "prompt-completion" => DataFormat.PromptCompletion,
        _ => DataFormat.Text,
    };

    /// <summary>Fine-tuning examples written, both splits together; 0 for text.</summary>
    public long Examples => (Meta.TrainExamples ?? 0) + (Meta.ValExamples ?? 0);

    /// <summary>Tokens trained on (the answers), both splits together; for text every token.</summary>
    public long TrainedTokens => Meta.Format is null ? TrainTokens + ValidationTokens : (Meta.TrainTrainedTokens ?? 0) + (Meta.ValTrainedTokens ?? 0);

    /// <summary>Fine-tuning examples longer than 1024 tokens (GPT-2's context), which training at that length
    /// truncates (and counts when it starts); 0 for text.</summary>
    public long LongExamples => Meta.LongExamples ?? 0;

    /// <summary>Bytes of input read.</summary>
    public long InputBytes { get; init; }

    internal PreparedDataMeta Meta { get; }
}
