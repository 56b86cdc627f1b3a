using SharpGpt.Model;

namespace SharpGpt.Formats;

/// <summary>What an import of a Hugging Face GPT-2 found: where the weights and the shape came from,
/// the dtypes read, the buffers skipped and whether an untied-looking lm_head was present.</summary>
internal sealed record HuggingFaceImportInfo(
    GptConfig Config,
    string WeightsPath,
    string? ConfigPath,
    string KeyPrefix,
    IReadOnlyList<string> DTypes,
    IReadOnlyList<string> IgnoredTensors,
    bool HadLmHead)
{
    /// <summary>One line for people: the shape, its source and what was skipped.</summary>
    public string Describe()
    {
        var c = Config;
        string source = ConfigPath is null ? "tensor shapes and HuggingFaceHeads" : ConfigPath;
        string prefix = KeyPrefix.Length == 0 ? "no key prefix" : $"keys prefixed '{KeyPrefix}'";
        string lmHead = HadLmHead ? "lm_head.weight equal to wte (tied)" : "lm_head tied (absent)";
        return $"{WeightsPath}: {c.NumLayers} layers, {c.NumHeads} heads, {c.Channels} channels, vocab {c.VocabSize}, block {c.MaxSeqLen} (shape from {source}); "
            + $"{string.Join("/", DTypes)}; {prefix}; {lmHead}; {IgnoredTensors.Count} buffer(s) ignored";
    }
}
