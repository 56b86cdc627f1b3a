using System.Buffers.Binary;
using System.Text.Json;

namespace SharpGpt.Formats;

/// <summary>Writes F32 safetensors files laid out as the reference implementation does: the JSON
/// header padded with spaces to a multiple of 8 bytes, then the tensors back to back in the given order.</summary>
internal static class SafeTensorsWriter
{
    public static void Write(Stream stream, IReadOnlyList<SafeTensorSource> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(SafeTensorsFile.MetadataKey);
                foreach (var (key, value) in metadata)
                {
                    json.WriteString(key, value);
                }

                json.WriteEndObject();
            }

            long offset = 0;
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var t in tensors)
            {
                if (!names.Add(t.Name) || t.Name == SafeTensorsFile.MetadataKey)
                {
                    throw new ArgumentException($"Tensor name '{t.Name}' is used twice or reserved.", nameof(tensors));
                }

                json.WriteStartObject(t.Name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (long d in t.Shape)
                {
                    json.WriteNumberValue(d);
                }

                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + t.ByteLength);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += t.ByteLength;
            }

            json.WriteEndObject();
        }

        while (header.Length % 8 != 0)
        {
            header.WriteByte((byte)' ');
        }

        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        header.Position = 0;
        header.CopyTo(stream);
        foreach (var t in tensors)
        {
            long before = stream.Position;
            t.WriteData(stream);
            if (stream.Position - before != t.ByteLength)
            {
                throw new InvalidOperationException($"Tensor '{t.Name}' wrote {stream.Position - before} bytes, expected {t.ByteLength}.");
            }
        }
    }
}
