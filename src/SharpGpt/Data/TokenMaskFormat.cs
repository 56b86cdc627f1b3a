namespace SharpGpt.Data;

/// <summary>The loss mask that prepare writes beside a shard of fine-tuning data (<c>train_000000.mask</c> beside
/// <c>train_000000.bin</c>): a header of four little-endian int32 (magic, version, token count, 0), then one byte per
/// token of the shard. Bit 0 (<see cref="Trained"/>): the token is trained on, its prediction counts in the loss.
/// Bit 1 (<see cref="StartsExample"/>): the token is the first of an example, which the loader keeps whole. The
/// other bits are 0. A shard of plain text has no mask and every token is trained on.</summary>
internal static class TokenMaskFormat
{
    public const int Magic = 20251203;
    public const int Version = 1;
    public const int HeaderInts = 4;
    public const int HeaderBytes = HeaderInts * sizeof(int);

    /// <summary>Bit 0: the token is a target the loss counts.</summary>
    public const byte Trained = 1;

    /// <summary>Bit 1: the token starts an example.</summary>
    public const byte StartsExample = 2;

    public const string Extension = ".mask";

    public static long FileLength(long tokenCount) => HeaderBytes + tokenCount;

    /// <summary>The mask file of a shard: the same name with <see cref="Extension"/> for ".bin".</summary>
    public static string PathFor(string shardPath) => Path.ChangeExtension(shardPath, Extension);
}
