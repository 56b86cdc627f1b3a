namespace SharpGpt.Data;

/// <summary>The content of meta.json in a prepared data directory: what the shards hold.</summary>
internal sealed record PreparedDataMeta(string Tokenizer, int VocabSize, long TrainTokens, long ValTokens, int TrainShards, int ValShards)
{
    public const string FileName = "meta.json";

    public static PreparedDataMeta Read(string dataDir) => DataJson.Read<PreparedDataMeta>(Path.Combine(dataDir, FileName));

    public void Write(string dataDir) => DataJson.Write(Path.Combine(dataDir, FileName), this);
}
