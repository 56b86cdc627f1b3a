using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace SharpGpt.Data;

/// <summary>Writes token shards in llm.c's format.</summary>
internal static class TokenShardWriter
{
    /// <summary>Writes <paramref name="tokens"/> to <paramref name="path"/>; throws if one does not fit in uint16.</summary>
    public static void Write(string path, ReadOnlySpan<int> tokens)
    {
        var narrow = new ushort[tokens.Length];
        for (var i = 0; i < tokens.Length; i++)
        {
            var token = tokens[i];
            if ((uint)token > TokenShardFormat.MaxTokenId)
            {
                throw new ArgumentOutOfRangeException(nameof(tokens), $"{path}: token {token} at position {i} does not fit in a uint16 shard (0..{TokenShardFormat.MaxTokenId}).");
            }

            narrow[i] = (ushort)token;
        }

        Write(path, narrow);
    }

    /// <summary>Writes <paramref name="tokens"/> to <paramref name="path"/> through a temp file and a rename, so a
    /// crash never leaves a half-written shard under the real name.</summary>
    public static void Write(string path, ReadOnlySpan<ushort> tokens)
    {
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
        {
            stream.SetLength(TokenShardFormat.FileLength(tokens.Length));
            stream.Write(Header(tokens.Length));
            if (BitConverter.IsLittleEndian)
            {
                stream.Write(MemoryMarshal.AsBytes(tokens));
            }
            else
            {
                var swapped = new ushort[tokens.Length];
                BinaryPrimitives.ReverseEndianness(tokens, swapped);
                stream.Write(MemoryMarshal.AsBytes(swapped.AsSpan()));
            }
        }

        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The header of a shard of <paramref name="tokenCount"/> tokens, as the bytes on disk.</summary>
    internal static byte[] Header(int tokenCount)
    {
        var header = new int[TokenShardFormat.HeaderInts];
        header[0] = TokenShardFormat.Magic;
        header[1] = TokenShardFormat.Version;
        header[2] = tokenCount;
        if (!BitConverter.IsLittleEndian)
        {
            BinaryPrimitives.ReverseEndianness(header, header);
        }

        return MemoryMarshal.AsBytes(header.AsSpan()).ToArray();
    }
}
