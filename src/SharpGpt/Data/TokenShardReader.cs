using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace SharpGpt.Data;

/// <summary>Reads and validates token shards in llm.c's format. Errors name the file and what is wrong.</summary>
internal static class TokenShardReader
{
    /// <summary>Checks the header against the file length and returns the token count.</summary>
    public static int ReadTokenCount(string path)
    {
        using var stream = OpenShard(path);
        return ReadHeader(stream, path);
    }

    /// <summary>Reads the whole shard into a new array.</summary>
    public static ushort[] Read(string path)
    {
        ushort[] buffer = [];
        var count = ReadInto(path, ref buffer);
        return buffer.Length == count ? buffer : buffer[..count];
    }

    /// <summary>Reads the whole shard into <paramref name="buffer"/>, growing it only when it is too small, so a
    /// loader cycling through shards reuses one array. Returns the token count.</summary>
    public static int ReadInto(string path, ref ushort[] buffer)
    {
        using var stream = OpenShard(path);
        var count = ReadHeader(stream, path);
        if (buffer.Length < count)
        {
            buffer = new ushort[count];
        }

        var tokens = buffer.AsSpan(0, count);
        stream.ReadExactly(MemoryMarshal.AsBytes(tokens));
        if (!BitConverter.IsLittleEndian)
        {
            BinaryPrimitives.ReverseEndianness(tokens, tokens);
        }

        return count;
    }

    private static FileStream OpenShard(string path)
    {
        if (!File.Exists(path))
        {
            throw new SharpGptException(path, "token shard not found.");
        }

        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
    }

    private static int ReadHeader(FileStream stream, string path)
    {
        var length = stream.Length;
        Span<int> header = stackalloc int[3];
        DataFileHeader.Read(stream, path, header, TokenShardFormat.HeaderBytes, TokenShardFormat.Magic, TokenShardFormat.Version, "shard", "token shard");
        var count = header[2];
        var held = (length - TokenShardFormat.HeaderBytes) / TokenShardFormat.BytesPerToken;
        if (count < 0 || TokenShardFormat.FileLength(count) != length)
        {
            throw new SharpGptException(path, $"header says {count} tokens but the file holds {held} ({length} bytes; expected {TokenShardFormat.FileLength(Math.Max(count, 0))}).");
        }

        stream.Position = TokenShardFormat.HeaderBytes;
        return count;
    }
}
