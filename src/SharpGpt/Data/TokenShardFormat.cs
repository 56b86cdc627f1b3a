namespace SharpGpt.Data;

/// <summary>llm.c's token shard layout: a header of 256 little-endian int32 (magic, version, token count, then
/// zeros) followed by the tokens as little-endian uint16.</summary>
internal static class TokenShardFormat
{
    public const int Magic = 20240520;
    public const int Version = 1;
    public const int HeaderInts = 256;
    public const int HeaderBytes = HeaderInts * sizeof(int);
    public const int BytesPerToken = sizeof(ushort);

    /// <summary>Token ids must fit in uint16.</summary>
    public const int MaxTokenId = ushort.MaxValue;

    public static long FileLength(long tokenCount) => HeaderBytes + tokenCount * BytesPerToken;

    /// <summary>File name of shard <paramref name="index"/> of a split, e.g. train_000001.bin.</summary>
    public static string ShardFileName(string split, int index) => $"{split}_{index:D6}.bin";
}
