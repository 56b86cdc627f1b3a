namespace SharpGpt.Data;

/// <summary>What <see cref="DataPreparer"/> wrote, and how many bytes of input it read.</summary>
internal sealed record PrepareResult(string OutDir, PreparedDataMeta Meta, IReadOnlyList<string> ValShards, IReadOnlyList<string> TrainShards)
{
    public long InputBytes { get; init; }
}
