using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace SharpGpt.Data;

/// <summary>The start of a token shard's or a loss mask's header (little-endian int32s: magic, version, then the
/// format's own fields), read and checked with errors naming the file.</summary>
internal static class DataFileHeader
{
    /// <summary>Fills <paramref name="header"/> from the start of the file after checking the file can hold
    /// <paramref name="headerBytes"/>, then checks its magic and version.</summary>
    /// <param name="kind">The format in the errors' words, e.g. "shard".</param>
    /// <param name="notA">What the file is not when its magic is wrong, e.g. "token shard".</param>
    public static void Read(Stream stream, string path, Span<int> header, int headerBytes, int magic, int version, string kind, string notA)
    {
        if (stream.Length < headerBytes)
        {
            throw new SharpGptException(path, $"file is {stream.Length} bytes, shorter than the {headerBytes}-byte {kind} header.");
        }

        stream.ReadExactly(MemoryMarshal.AsBytes(header));
        if (!BitConverter.IsLittleEndian)
        {
            BinaryPrimitives.ReverseEndianness(header, header);
        }

        if (header[0] != magic)
        {
            throw new SharpGptException(path, $"wrong magic {header[0]} (expected {magic}); not a {notA}.");
        }

        if (header[1] != version)
        {
            throw new SharpGptException(path, $"unsupported {kind} version {header[1]} (expected {version}).");
        }
    }
}
