using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace SharpGpt.Data;

/// <summary>Reads and writes loss masks (<see cref="TokenMaskFormat"/>); errors name the file and what is wrong.</summary>
internal static class TokenMaskFile
{
    /// <summary>Reads the mask of a shard of <paramref name="tokenCount"/> tokens into <paramref name="buffer"/>
    /// (grown only when too small); the header must say that count and every byte must be a known flag set.</summary>
    public static void ReadInto(string path, int tokenCount, ref byte[] buffer)
    {
        if (!File.Exists(path))
        {
            throw new SharpGptException(path, "loss mask not found; the folder's other shards have one", "prepare the data again.");
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        Span<int> header = stackalloc int[TokenMaskFormat.HeaderInts];
        DataFileHeader.Read(stream, path, header, TokenMaskFormat.HeaderBytes, TokenMaskFormat.Magic, TokenMaskFormat.Version, "mask", "loss mask");
        if (header[2] != tokenCount || stream.Length != TokenMaskFormat.FileLength(tokenCount))
        {
            throw new SharpGptException(path, $"the mask says {header[2]} tokens in {stream.Length} bytes, but its shard holds {tokenCount} (expected {TokenMaskFormat.FileLength(tokenCount)} bytes)", "prepare the data again.");
        }

        if (buffer.Length < tokenCount)
        {
            buffer = new byte[tokenCount];
        }

        var mask = buffer.AsSpan(0, tokenCount);
        stream.ReadExactly(mask);
        const byte known = TokenMaskFormat.Trained | TokenMaskFormat.StartsExample;
        int bad = mask.IndexOfAnyExceptInRange((byte)0, known);
        if (bad >= 0)
        {
            throw new SharpGptException(path, $"byte {mask[bad]} at token {bad} sets bits that are not mask flags (bit 0 trained on, bit 1 starts an example).");
        }
    }

    /// <summary>Writes a whole mask through a temporary file and a rename.</summary>
    public static void Write(string path, ReadOnlySpan<byte> mask)
    {
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
        {
            stream.Write(Header(mask.Length));
            stream.Write(mask);
        }

        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The header of a mask of <paramref name="tokenCount"/> tokens, as the bytes on disk.</summary>
    public static byte[] Header(int tokenCount)
    {
        int[] header = [TokenMaskFormat.Magic, TokenMaskFormat.Version, tokenCount, 0];
        if (!BitConverter.IsLittleEndian)
        {
            BinaryPrimitives.ReverseEndianness(header, header);
        }

        return MemoryMarshal.AsBytes(header.AsSpan()).ToArray();
    }
}
