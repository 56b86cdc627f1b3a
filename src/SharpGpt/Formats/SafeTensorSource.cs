namespace SharpGpt.Formats;

/// <summary>One F32 tensor to write: its name, its shape and a callback that writes exactly its bytes.</summary>
internal sealed record SafeTensorSource(string Name, long[] Shape, Action<Stream> WriteData)
{
    public long ByteLength => Shape.Aggregate(1L, (n, d) => checked(n * d)) * sizeof(float);
}
