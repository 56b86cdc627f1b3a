namespace SharpGpt.Data;

/// <summary>The shards of one split, in order: files in llm.c's format, or token arrays held in memory.</summary>
internal abstract class TokenShards
{
    /// <summary>How many shards there are; at least one.</summary>
    public abstract int Count { get; }

    /// <summary>Where shard <paramref name="index"/> is, for errors: its path, or a name for memory.</summary>
    public abstract string Name(int index);

    /// <summary>The tokens in shard <paramref name="index"/>; a file's header is checked against its length.</summary>
    public abstract int TokenCount(int index);

    /// <summary>Makes <paramref name="buffer"/> hold shard <paramref name="index"/>'s tokens (reusing it when it is
    /// large enough, or pointing it at the shard itself in memory) and returns their count.</summary>
    public abstract int Read(int index, ref ushort[] buffer);

    /// <summary>The shards of a split of a prepared data folder: its {split}_*.bin in name order.</summary>
    public static TokenShards InFolder(string dataDir, string split) => new FileShards(TokenDataLoader.FindShards(dataDir, split));

    /// <summary>Shard files, in the order given.</summary>
    public static TokenShards Files(IReadOnlyList<string> paths) => new FileShards([.. paths]);

    /// <summary>Shard files, in the order given.</summary>
    private sealed class FileShards(string[] paths) : TokenShards
    {
        public override int Count => paths.Length;

        public override string Name(int index) => paths[index];

        public override int TokenCount(int index) => TokenShardReader.ReadTokenCount(paths[index]);

        public override int Read(int index, ref ushort[] buffer) => TokenShardReader.ReadInto(paths[index], ref buffer);
    }
}
