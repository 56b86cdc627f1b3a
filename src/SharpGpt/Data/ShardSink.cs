namespace SharpGpt.Data;

/// <summary>Collects the token stream of one split and cuts it into shards of at most a fixed size. Documents may
/// straddle two shards; the loader reads the shards as one stream, so nothing is lost.</summary>
internal sealed class ShardSink(string outDir, string split, int shardTokens)
{
    private readonly List<string> _paths = [];
    private ushort[] _buffer = new ushort[Math.Min(shardTokens, 1 << 16)];
    private int _filled;

    public long TotalTokens { get; private set; }

    public IReadOnlyList<string> Paths => _paths;

    public void Append(ReadOnlySpan<int> tokens)
    {
        while (!tokens.IsEmpty)
        {
            if (_filled == shardTokens)
            {
                Flush();
            }

            var room = shardTokens - _filled;
            var take = Math.Min(room, tokens.Length);
            EnsureCapacity(_filled + take);
            for (var i = 0; i < take; i++)
            {
                var token = tokens[i];
                if ((uint)token > TokenShardFormat.MaxTokenId)
                {
                    throw new UserErrorException(split, $"token {token} does not fit in a uint16 shard (0..{TokenShardFormat.MaxTokenId}).");
                }

                _buffer[_filled + i] = (ushort)token;
            }

            _filled += take;
            TotalTokens += take;
            tokens = tokens[take..];
        }
    }

    /// <summary>Writes what is buffered as the last shard.</summary>
    public void Finish()
    {
        if (_filled > 0)
        {
            Flush();
        }
    }

    private void Flush()
    {
        var path = Path.Combine(outDir, TokenShardFormat.ShardFileName(split, _paths.Count));
        TokenShardWriter.Write(path, _buffer.AsSpan(0, _filled));
        _paths.Add(path);
        _filled = 0;
    }

    // Grow by doubling up to the shard size, so a small corpus never allocates a 100M-token buffer.
    private void EnsureCapacity(int needed)
    {
        if (needed > _buffer.Length)
        {
            Array.Resize(ref _buffer, (int)Math.Min(shardTokens, Math.Max(needed, 2L * _buffer.Length)));
        }
    }
}
