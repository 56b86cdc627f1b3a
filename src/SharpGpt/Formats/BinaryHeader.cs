namespace SharpGpt.Formats;

/// <summary>llm.c's files start with 256 int32s; this reads and checks them with errors naming the file.</summary>
internal static class BinaryHeader
{
    public const int Ints = 256;
    public const int Bytes = Ints * sizeof(int);

    public static int[] Read(Stream stream, string path, int expectedMagic, string what)
    {
        if (stream.Length < Bytes)
        {
            throw new SharpGptException(path, $"truncated {what}: {stream.Length} bytes, but the header alone needs {Bytes}.");
        }

        var header = new int[Ints];
        stream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(header.AsSpan()));
        if (header[0] != expectedMagic)
        {
            throw new SharpGptException(path, $"not a {what}: magic is {header[0]}, expected {expectedMagic}.");
        }

        return header;
    }

    public static void RequireLength(Stream stream, string path, long expected, string detail)
    {
        if (stream.Length != expected)
        {
            string kind = stream.Length < expected ? "truncated" : "too long";
            throw new SharpGptException(path, $"{kind}: {stream.Length} bytes, expected {expected} ({detail}).");
        }
    }
}
