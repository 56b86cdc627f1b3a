using System.Buffers.Binary;
using System.Text;
using SharpGpt.Formats;
using SharpGpt.Tests.Data;

namespace SharpGpt.Tests.Formats;

public sealed class SafeTensorsFileTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A file with the given JSON header (length written as given, or its true length) and data bytes.</summary>
    private string Write(string header, int dataBytes, ulong? claimedLength = null, string name = "x.safetensors")
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, claimedLength ?? (ulong)json.Length);
        json.CopyTo(bytes, 8);
        string path = _dir.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static void Rejects(string path, params string[] phrases)
    {
        var e = Assert.Throws<SharpGptException>(() => SafeTensorsFile.Open(path).Dispose());
        Assert.Contains(path, e.Message);
        foreach (string phrase in phrases)
        {
            Assert.Contains(phrase, e.Message);
        }
    }

    [Fact]
    public unsafe void WriterAndReaderRoundTripWithScalarsAndEmptyTensors()
    {
        float[] a = [1, 2, 3, 4, 5, 6];
        string path = _dir.File("ok.safetensors");
        var sources = new List<SafeTensorSource>
        {
            new("a", [2, 3], s => s.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan()))),
            new("scalar", [], s => s.Write(BitConverter.GetBytes(-1e4f))),
            new("empty", [0, 5], _ => { }),
        };
        using (var f = File.Create(path))
        {
            SafeTensorsWriter.Write(f, sources, new Dictionary<string, string> { ["format"] = "pt" });
        }

        byte[] raw = File.ReadAllBytes(path);
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(raw) % 8);
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(3, file.Tensors.Count);
        Assert.Equal(a, file.ReadFloats(file.Tensors["a"]));
        Assert.Equal([-1e4f], file.ReadFloats(file.Tensors["scalar"]));
        Assert.Equal(1, file.Tensors["scalar"].ElementCount);
        Assert.Empty(file.ReadFloats(file.Tensors["empty"]));
    }

    [Fact]
    public void ConvertsF16AndBf16()
    {
        Half[] halves = [(Half)1.5f, (Half)(-0.25f), Half.MaxValue];
        float[] wide = [3.140625f, -2f, 1e30f];
        var data = new List<byte>();
        foreach (var h in halves)
        {
            data.AddRange(BitConverter.GetBytes(BitConverter.HalfToUInt16Bits(h)));
        }

        foreach (float f in wide)
        {
            data.AddRange(BitConverter.GetBytes((ushort)(BitConverter.SingleToUInt32Bits(f) >> 16)));
        }

        string header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]},\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[6,12]}}";
        string path = Write(header, 0);
        File.AppendAllBytes(path, [.. data]);
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal([1.5f, -0.25f, 65504f], file.ReadFloats(file.Tensors["h"]));
        float[] b = file.ReadFloats(file.Tensors["b"]);
        Assert.Equal(3.140625f, b[0]);
        Assert.Equal(-2f, b[1]);
        Assert.Equal(BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(1e30f) & 0xFFFF0000), b[2]);
    }

    [Fact]
    public void RejectsAFileShorterThanTheLengthField()
    {
        string path = _dir.File("short.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        Rejects(path, "3 bytes");
    }

    [Fact]
    public void RejectsAHugeHeaderLengthBeforeAllocatingIt()
    {
        Rejects(Write("{}", 0, claimedLength: ulong.MaxValue - 3), "header length", "outside");
        Rejects(Write("{}", 0, claimedLength: SafeTensorsFile.MaxHeaderBytes + 1), "outside");
    }

    [Fact]
    public void RejectsAHeaderLongerThanTheFile() => Rejects(Write("{}", 0, claimedLength: 4096), "truncated", "4096");

    [Theory]
    [InlineData("[1,2]", "not a JSON object")]
    [InlineData("{\"a\": ", "not valid JSON")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}} trailing", "not valid JSON")]
    [InlineData("{\"a\":5}", "not a JSON object")]
    [InlineData("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", "\"dtype\"")]
    [InlineData("{\"a\":{\"dtype\":\"F31\",\"shape\":[1],\"data_offsets\":[0,4]}}", "unknown dtype \"F31\"")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", "\"shape\"")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", "not a non-negative integer")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", "not a non-negative integer")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}}", "not a non-negative integer")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", "has 3 numbers, expected 2")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", "not a range")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,18446744073709551615]}}", "not a non-negative integer")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", "takes 8 bytes", "span 4")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", "overflows")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", "not a range inside the 8-byte data buffer")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", "overlap")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", "belong to no tensor")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "end at byte 4", "holds 8 bytes")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", "'a' twice")]
    [InlineData("{\"__metadata__\":{\"format\":1},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "is not a string")]
    [InlineData("{\"__metadata__\":[],\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "not a JSON object of strings")]
    public void RejectsACorruptHeaderNamingTheProblem(string header, params string[] phrases) => Rejects(Write(header, 8), phrases);

    [Fact]
    public void RejectsHeaderBytesThatAreNotUtf8()
    {
        string path = Write("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8);
        byte[] bytes = File.ReadAllBytes(path);
        bytes[10] = 0xFF; // inside the name "a"
        File.WriteAllBytes(path, bytes);
        Rejects(path, "not valid UTF-8");
    }

    [Fact]
    public void RefusesToReadANonFloatTensorAsWeights()
    {
        string path = Write("{\"m\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8);
        using var file = SafeTensorsFile.Open(path);
        var e = Assert.Throws<SharpGptException>(() => file.ReadFloats(file.Tensors["m"]));
        Assert.Contains("dtype I32", e.Message);
    }
}
