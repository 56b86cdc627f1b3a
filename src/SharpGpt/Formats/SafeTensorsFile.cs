using System.Buffers.Binary;
using System.Text.Json;
using SharpGpt.Kernels;

namespace SharpGpt.Formats;

/// <summary>
/// A safetensors file, opened for reading: an 8-byte little-endian header length N, N bytes of
/// UTF-8 JSON ({name: {"dtype", "shape", "data_offsets": [begin, end]}, optional "__metadata__"}),
/// then the data buffer the offsets point into. Every header field is checked when the file is
/// opened, before anything is allocated from its numbers: the header size is bounded and inside
/// the file, each dtype is known, each shape times its dtype size equals its byte range, and the
/// ranges tile the data buffer exactly (no overlap, no gap, nothing after the last tensor).
/// </summary>
internal sealed unsafe class SafeTensorsFile : IDisposable
{
    /// <summary>The reference implementation's limit on the JSON header.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public const string MetadataKey = "__metadata__";

    private readonly FileStream _stream;

    private SafeTensorsFile(string path, FileStream stream, long dataStart, Dictionary<string, SafeTensorInfo> tensors, Dictionary<string, string> metadata)
    {
        Path = path;
        _stream = stream;
        DataStart = dataStart;
        Tensors = tensors;
        Metadata = metadata;
    }

    public string Path { get; }

    /// <summary>Where the data buffer starts in the file: 8 + the header length.</summary>
    public long DataStart { get; }

    public IReadOnlyDictionary<string, SafeTensorInfo> Tensors { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    public static SafeTensorsFile Open(string path)
    {
        if (!File.Exists(path))
        {
            throw new SharpGptException(path, "safetensors file not found.");
        }

        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        try
        {
            var (dataStart, tensors, metadata) = ReadHeader(stream, path);
            return new SafeTensorsFile(path, stream, dataStart, tensors, metadata);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Reads a floating-point tensor (F32, F16 or BF16) as float32 into <paramref name="destination"/>,
    /// which must hold <see cref="SafeTensorInfo.ElementCount"/> floats.</summary>
    public void ReadFloats(SafeTensorInfo tensor, float* destination)
    {
        if (!Tensors.TryGetValue(tensor.Name, out var known) || known != tensor)
        {
            throw new ArgumentException($"{Path}: tensor '{tensor.Name}' does not belong to this file.", nameof(tensor));
        }

        long count = tensor.ElementCount;
        _stream.Position = DataStart + tensor.Begin;
        switch (tensor.DType)
        {
            case "F32":
                DeviceMemoryExtensions.ReadHostFloats(_stream, destination, count);
                break;
            case "F16":
            case "BF16":
                ReadHalves(tensor.DType == "BF16", destination, count);
                break;
            default:
                throw new SharpGptException(Path, $"tensor '{tensor.Name}' has dtype {tensor.DType}; only F32, F16 and BF16 can be read as weights.");
        }
    }

    /// <summary>Reads a floating-point tensor into a new array (for tensors below 2^31 elements).</summary>
    public float[] ReadFloats(SafeTensorInfo tensor)
    {
        var values = new float[checked((int)tensor.ElementCount)];
        fixed (float* p = values)
        {
            ReadFloats(tensor, p);
        }

        return values;
    }

    private void ReadHalves(bool bfloat, float* destination, long count)
    {
        const int chunk = 1 << 18;
        var buffer = new ushort[(int)Math.Min(chunk, Math.Max(count, 1))];
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(buffer.AsSpan());
        for (long done = 0; done < count; done += buffer.Length)
        {
            int n = (int)Math.Min(buffer.Length, count - done);
            _stream.ReadExactly(bytes[..(n * sizeof(ushort))]);
            float* dst = destination + done;
            if (bfloat)
            {
                for (int i = 0; i < n; i++)
                {
                    dst[i] = BitConverter.UInt32BitsToSingle((uint)buffer[i] << 16);
                }
            }
            else
            {
                for (int i = 0; i < n; i++)
                {
                    dst[i] = (float)BitConverter.UInt16BitsToHalf(buffer[i]);
                }
            }
        }
    }

    private static (long DataStart, Dictionary<string, SafeTensorInfo> Tensors, Dictionary<string, string> Metadata) ReadHeader(FileStream stream, string path)
    {
        long fileLength = stream.Length;
        if (fileLength < 8)
        {
            throw new SharpGptException(path, $"not a safetensors file: {fileLength} bytes, but the header length alone takes 8.");
        }

        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength < 2 || headerLength > MaxHeaderBytes)
        {
            throw new SharpGptException(path, $"safetensors header length {headerLength} is outside [2, {MaxHeaderBytes}] bytes.");
        }

        if ((long)headerLength > fileLength - 8)
        {
            throw new SharpGptException(path, $"truncated safetensors file: the header claims {headerLength} bytes but only {fileLength - 8} follow the length.");
        }

        var json = new byte[headerLength];
        stream.ReadExactly(json);
        if (json[0] != (byte)'{')
        {
            throw new SharpGptException(path, $"the safetensors header is not a JSON object (it starts with byte 0x{json[0]:x2}).");
        }

        if (!System.Text.Unicode.Utf8.IsValid(json))
        {
            throw new SharpGptException(path, "the safetensors header is not valid UTF-8.");
        }

        long dataStart = 8 + (long)headerLength;
        long dataLength = fileLength - dataStart;
        var tensors = new Dictionary<string, SafeTensorInfo>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new SharpGptException(path, $"the safetensors header is not valid JSON: {e.Message}", innerException: e);
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new SharpGptException(path, "the safetensors header is not a JSON object.");
            }

            bool sawMetadata = false;
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (property.Name == MetadataKey)
                {
                    if (sawMetadata)
                    {
                        throw new SharpGptException(path, $"the safetensors header has \"{MetadataKey}\" twice.");
                    }

                    sawMetadata = true;
                    ReadMetadata(property.Value, metadata, path);
                    continue;
                }

                if (tensors.ContainsKey(property.Name))
                {
                    throw new SharpGptException(path, $"the safetensors header names tensor '{property.Name}' twice.");
                }

                tensors.Add(property.Name, ReadTensor(property.Name, property.Value, dataLength, path));
            }
        }

        CheckTiling(tensors.Values, dataLength, path);
        return (dataStart, tensors, metadata);
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string path)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new SharpGptException(path, $"\"{MetadataKey}\" is not a JSON object of strings.");
        }

        foreach (var entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
            {
                throw new SharpGptException(path, $"\"{MetadataKey}\".\"{entry.Name}\" is not a string.");
            }

            if (!metadata.TryAdd(entry.Name, entry.Value.GetString()!))
            {
                throw new SharpGptException(path, $"\"{MetadataKey}\" has the key \"{entry.Name}\" twice.");
            }
        }
    }

    private static SafeTensorInfo ReadTensor(string name, JsonElement value, long dataLength, string path)
    {
        string where = $"{path}: tensor '{name}'";
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new SharpGptException(where, "its entry is not a JSON object.");
        }

        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
        {
            throw new SharpGptException(where, "missing or non-string \"dtype\".");
        }

        string dtype = dtypeElement.GetString()!;
        if (!SafeTensorInfo.DTypeSizes.TryGetValue(dtype, out int elementSize))
        {
            throw new SharpGptException(where, $"unknown dtype \"{dtype}\" (known: {string.Join(", ", SafeTensorInfo.DTypeSizes.Keys)}).");
        }

        long[] shape = ReadIntegers(value, "shape", where, expectedCount: null);
        long[] offsets = ReadIntegers(value, "data_offsets", where, expectedCount: 2);
        long begin = offsets[0], end = offsets[1];
        if (begin > end || end > dataLength)
        {
            throw new SharpGptException(where, $"data_offsets [{begin}, {end}] are not a range inside the {dataLength}-byte data buffer.");
        }

        long bytes;
        try
        {
            bytes = elementSize;
            foreach (long d in shape)
            {
                bytes = checked(bytes * d);
            }
        }
        catch (OverflowException)
        {
            throw new SharpGptException(where, $"shape [{string.Join(", ", shape)}] overflows a 64-bit byte count.");
        }

        if (bytes != end - begin)
        {
            throw new SharpGptException(where, $"shape [{string.Join(", ", shape)}] of {dtype} takes {bytes} bytes, but data_offsets [{begin}, {end}] span {end - begin}.");
        }

        return new SafeTensorInfo(name, dtype, shape, begin, end);
    }

    private static long[] ReadIntegers(JsonElement value, string field, string where, int? expectedCount)
    {
        if (!value.TryGetProperty(field, out var array) || array.ValueKind != JsonValueKind.Array)
        {
            throw new SharpGptException(where, $"missing or non-array \"{field}\".");
        }

        int count = array.GetArrayLength();
        if (expectedCount is int expected && count != expected)
        {
            throw new SharpGptException(where, $"\"{field}\" has {count} numbers, expected {expected}.");
        }

        if (count > 16)
        {
            throw new SharpGptException(where, $"\"{field}\" has {count} dimensions (at most 16 are accepted).");
        }

        var result = new long[count];
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long v) || v < 0)
            {
                throw new SharpGptException(where, $"\"{field}\"[{i}] is {item.GetRawText()}, not a non-negative integer.");
            }

            result[i++] = v;
        }

        return result;
    }

    private static void CheckTiling(IEnumerable<SafeTensorInfo> tensors, long dataLength, string path)
    {
        long expected = 0;
        SafeTensorInfo? previous = null;
        foreach (var t in tensors.OrderBy(t => t.Begin).ThenBy(t => t.End))
        {
            if (t.Begin < expected)
            {
                throw new SharpGptException(path, $"tensors '{previous!.Name}' [{previous.Begin}, {previous.End}] and '{t.Name}' [{t.Begin}, {t.End}] overlap.");
            }

            if (t.Begin > expected)
            {
                throw new SharpGptException(path, $"bytes [{expected}, {t.Begin}) of the data buffer belong to no tensor (before '{t.Name}').");
            }

            expected = t.End;
            previous = t;
        }

        if (expected != dataLength)
        {
            throw new SharpGptException(path, $"the tensors end at byte {expected} of the data buffer, but it holds {dataLength} bytes.");
        }
    }

    public void Dispose() => _stream.Dispose();
}
