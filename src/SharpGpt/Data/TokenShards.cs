namespace SharpGpt.Data;

/// <summary>The shards of one split, in order: files in llm.c's format, or token arrays held in memory; with a loss
/// mask per shard for fine-tuning data (<see cref="TokenMaskFormat"/>), or none for plain text.</summary>
internal abstract class TokenShards
{
    /// <summary>How many shards there are; at least one.</summary>
    public abstract int Count { get; }

    /// <summary>Whether every shard has a loss mask (fine-tuning data); plain text has none.</summary>
    public virtual bool HasMasks => false;

    /// <summary>Where shard <paramref name="index"/> is, for errors: its path, or a name for memory.</summary>
    public abstract string Name(int index);

    /// <summary>The tokens in shard <paramref name="index"/>; a file's header is checked against its length.</summary>
    public abstract int TokenCount(int index);

    /// <summary>Makes <paramref name="buffer"/> hold shard <paramref name="index"/>'s tokens (reusing it when it is
    /// large enough, or pointing it at the shard itself in memory) and returns their count.</summary>
    public abstract int Read(int index, ref ushort[] buffer);

    /// <summary>Makes <paramref name="buffer"/> hold the loss mask of shard <paramref name="index"/>, one byte per
    /// token (<see cref="TokenMaskFormat"/>); only when <see cref="HasMasks"/>.</summary>
    public virtual void ReadMask(int index, ref byte[] buffer) => throw new InvalidOperationException("These shards have no loss masks.");

    /// <summary>The shards of a split of a prepared data folder: its {split}_*.bin in name order, with their masks
    /// when the folder has them.</summary>
    public static TokenShards InFolder(string dataDir, string split) => Files(TokenDataLoader.FindShards(dataDir, split));

    /// <summary>Shard files, in the order given; with masks when the first has one (then every one must).</summary>
    public static TokenShards Files(IReadOnlyList<string> paths) => new FileShards([.. paths]);

    /// <summary>Shard files, in the order given.</summary>
    private sealed class FileShards : TokenShards
    {
        private readonly string[] _paths;
        private readonly bool _masked;

        public FileShards(string[] paths)
        {
            _paths = paths;
            _masked = paths.Length > 0 && File.Exists(TokenMaskFormat.PathFor(paths[0]));
            foreach (var path in paths)
            {
                if (File.Exists(TokenMaskFormat.PathFor(path)) != _masked)
                {
                    throw new SharpGptException(_masked ? TokenMaskFormat.PathFor(path) : path,
                        _masked ? $"loss mask not found, but {TokenMaskFormat.PathFor(paths[0])} has one" : $"has a loss mask ({TokenMaskFormat.PathFor(path)}), but {paths[0]} has none",
                        "the shards of a split come from one preparation; prepare the data again.");
                }
            }
        }

        public override int Count => _paths.Length;

        public override bool HasMasks => _masked;

        public override string Name(int index) => _paths[index];

        public override int TokenCount(int index) => TokenShardReader.ReadTokenCount(_paths[index]);

        public override int Read(int index, ref ushort[] buffer) => TokenShardReader.ReadInto(_paths[index], ref buffer);

        public override void ReadMask(int index, ref byte[] buffer)
        {
            if (!_masked)
            {
                base.ReadMask(index, ref buffer);
            }

            TokenMaskFile.ReadInto(TokenMaskFormat.PathFor(_paths[index]), TokenCount(index), ref buffer);
        }
    }
}
