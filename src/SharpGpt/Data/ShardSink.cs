using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace SharpGpt.Data;

/// <summary>Writes the token stream of one split as shards of at most a fixed size, streaming: tokens pass through
/// a small buffer into the open shard's temporary file, whose header is written once the shard is complete, and
/// which is then renamed to its real name. Memory stays the same whatever the shard size. Documents may straddle
/// two shards; the loader reads the shards as one stream, so nothing is lost.</summary>
internal sealed class ShardSink(string outDir, string split, int shardTokens) : IDisposable
{
    private readonly List<string> _paths = [];
    private readonly ushort[] _buffer = new ushort[1 << 16];
    private int _buffered;
    private int _inShard;
    private FileStream? _file;

    public long TotalTokens { get; private set; }

    public IReadOnlyList<string> Paths => _paths;

    public void Append(ReadOnlySpan<int> tokens)
    {
        foreach (var token in tokens)
        {
            if ((uint)token > TokenShardFormat.MaxTokenId)
            {
                throw new SharpGptException(split, $"token {token} does not fit in a uint16 shard (0..{TokenShardFormat.MaxTokenId}).");
            }

            _file ??= OpenShard();
            _buffer[_buffered++] = (ushort)token;
            _inShard++;
            TotalTokens++;
            if (_buffered == _buffer.Length)
            {
                WriteBuffer();
            }

            if (_inShard == shardTokens)
            {
                CloseShard();
            }
        }
    }

    /// <summary>Completes the shard being written, if any, as the last one.</summary>
    public void Finish()
    {
        if (_file is not null)
        {
            CloseShard();
        }
    }

    /// <summary>Drops a shard left unfinished by an error: its temporary file never gets the real name.</summary>
    public void Dispose()
    {
        if (_file is not null)
        {
            var temp = _file.Name;
            _file.Dispose();
            _file = null;
            File.Delete(temp);
        }
    }

    private FileStream OpenShard()
    {
        var temp = Path.Combine(outDir, TokenShardFormat.ShardFileName(split, _paths.Count)) + ".tmp";
        var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16);
        file.Write(new byte[TokenShardFormat.HeaderBytes]); // the real header once the count is known
        return file;
    }

    private void WriteBuffer()
    {
        var tokens = _buffer.AsSpan(0, _buffered);
        if (!BitConverter.IsLittleEndian)
        {
            BinaryPrimitives.ReverseEndianness(tokens, tokens);
        }

        _file!.Write(MemoryMarshal.AsBytes(tokens));
        _buffered = 0;
    }

    private void CloseShard()
    {
        WriteBuffer();
        var file = _file!;
        file.Position = 0;
        file.Write(TokenShardWriter.Header(_inShard));
        var temp = file.Name;
        file.Dispose();
        _file = null;
        var path = Path.Combine(outDir, TokenShardFormat.ShardFileName(split, _paths.Count));
        File.Move(temp, path, overwrite: true);
        _paths.Add(path);
        _inShard = 0;
    }
}
