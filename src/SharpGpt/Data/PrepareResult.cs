namespace SharpGpt.Data;

/// <summary>What <see cref="DataPreparer"/> wrote.</summary>
public sealed record PrepareResult(string OutDir, PreparedDataMeta Meta, IReadOnlyList<string> ValShards, IReadOnlyList<string> TrainShards);
