using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace SharpGpt.Data;

/// <summary>Writes the token stream of one split as shards of at most a fixed size, streaming: tokens pass through
/// a small buffer into the open shard's temporary file, whose header is written once the shard is complete, and
/// which is then renamed to its real name. Memory stays the same whatever the shard size. Documents may straddle
/// two shards; the loader reads the shards as one stream, so nothing is lost.
/// <para>A masked sink (fine-tuning data) writes whole examples instead, each with its loss mask, which goes to a
/// companion file beside the shard (<see cref="TokenMaskFormat"/>) in step with the tokens. An example never
/// straddles two shards, since the loader keeps examples whole within a shard: one that would overflow the open
/// shard starts the next, and one longer than a whole shard gets a shard of its own, that much larger.</para></summary>
internal sealed class ShardSink(string outDir, string split, int shardTokens, bool masked = false) : IDisposable
{
    private readonly List<string> _paths = [];
    private readonly ushort[] _buffer = new ushort[1 << 16];
    private readonly byte[] _maskBuffer = masked ? new byte[1 << 16] : [];
    private int _buffered;
    private int _inShard;
    private FileStream? _file;
    private FileStream? _maskFile;

    /// <summary>Examples written (masked sinks only).</summary>
    public long Examples { get; private set; }

    /// <summary>Tokens whose mask says they are trained on (masked sinks only).</summary>
    public long TrainedTokens { get; private set; }

    public long TotalTokens { get; private set; }

    public IReadOnlyList<string> Paths => _paths;

    public void Append(ReadOnlySpan<int> tokens)
    {
        if (masked)
        {
            throw new InvalidOperationException("A masked sink takes whole examples with their masks.");
        }

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

    /// <summary>Appends one whole example and its mask (a byte per token) to the open shard, or to a new one when it
    /// does not fit the open one.</summary>
    public void AppendExample(ReadOnlySpan<int> tokens, ReadOnlySpan<byte> mask)
    {
        if (!masked || mask.Length != tokens.Length)
        {
            throw new InvalidOperationException("Only a masked sink takes examples, each with a mask byte per token.");
        }

        if (_inShard > 0 && (long)_inShard + tokens.Length > shardTokens)
        {
            CloseShard();
        }

        for (var i = 0; i < tokens.Length; i++)
        {
            var token = tokens[i];
            if ((uint)token > TokenShardFormat.MaxTokenId)
            {
                throw new SharpGptException(split, $"token {token} does not fit in a uint16 shard (0..{TokenShardFormat.MaxTokenId}).");
            }

            _file ??= OpenShard();
            _buffer[_buffered] = (ushort)token;
            _maskBuffer[_buffered++] = mask[i];
            TrainedTokens += mask[i] & TokenMaskFormat.Trained;
            _inShard++;
            TotalTokens++;
            if (_buffered == _buffer.Length)
            {
                WriteBuffer();
            }
        }

        Examples++;
        if (_inShard >= shardTokens)
        {
            CloseShard();
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

        if (_maskFile is not null)
        {
            var temp = _maskFile.Name;
            _maskFile.Dispose();
            _maskFile = null;
            File.Delete(temp);
        }
    }

    private FileStream OpenShard()
    {
        var temp = Path.Combine(outDir, TokenShardFormat.ShardFileName(split, _paths.Count)) + ".tmp";
        var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16);
        file.Write(new byte[TokenShardFormat.HeaderBytes]); // the real header once the count is known
        if (masked)
        {
            _maskFile = new FileStream(TokenMaskFormat.PathFor(temp[..^".tmp".Length]) + ".tmp", FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16);
            _maskFile.Write(new byte[TokenMaskFormat.HeaderBytes]);
        }

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
        _maskFile?.Write(_maskBuffer.AsSpan(0, _buffered));
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
        if (_maskFile is { } maskFile)
        {
            // The mask gets its real name first: a shard under its real name always has its mask.
            maskFile.Position = 0;
            maskFile.Write(TokenMaskFile.Header(_inShard));
            var maskTemp = maskFile.Name;
            maskFile.Dispose();
            _maskFile = null;
            File.Move(maskTemp, TokenMaskFormat.PathFor(path), overwrite: true);
        }

        File.Move(temp, path, overwrite: true);
        _paths.Add(path);
        _inShard = 0;
    }
}
