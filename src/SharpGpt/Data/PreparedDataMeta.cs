using System.Text.Json.Serialization;

namespace SharpGpt.Data;

/// <summary>The content of meta.json in a prepared data directory: what the shards hold. Fine-tuning data also says
/// its format, the chat template its examples were written with, and counts of its examples; plain text leaves
/// those out.</summary>
internal sealed record PreparedDataMeta(string Tokenizer, int VocabSize, long TrainTokens, long ValTokens, int TrainShards, int ValShards)
{
    public const string FileName = "meta.json";

    /// <summary>"prompt-completion" or "chat" for fine-tuning data (the shards then have loss masks); null for text.</summary>
    public string? Format { get; init; }

    /// <summary>The chat template's name (<see cref="SharpGpt.ChatTemplate.Name"/>); null for text.</summary>
    public string? ChatTemplate { get; init; }

    public long? TrainExamples { get; init; }

    public long? ValExamples { get; init; }

    /// <summary>Train tokens whose mask says they are trained on.</summary>
    public long? TrainTrainedTokens { get; init; }

    /// <summary>Validation tokens whose mask says they count in the validation loss.</summary>
    public long? ValTrainedTokens { get; init; }

    /// <summary>Examples longer than 1024 tokens, GPT-2's context: training at T = 1024 truncates them.</summary>
    [JsonPropertyName("examples_over_1024_tokens")]
    public long? LongExamples { get; init; }

    public static PreparedDataMeta Read(string dataDir) => DataJson.Read<PreparedDataMeta>(Path.Combine(dataDir, FileName));

    public void Write(string dataDir) => DataJson.Write(Path.Combine(dataDir, FileName), this);
}
