using SharpGpt.Kernels;
using SharpGpt.Model;

namespace SharpGpt.Formats;

/// <summary>
/// llm.c's GPT-2 checkpoint: 256 int32 header (magic 20240326; version 3 = fp32, 5 = bf16; block
/// size, vocab, layers, heads, channels, padded vocab), then every parameter in layout order.
/// </summary>
internal static unsafe class LlmcCheckpoint
{
    public const int Magic = 20240326;
    public const int VersionFp32 = 3;
    public const int VersionBf16 = 5;

    public static GptConfig ReadConfig(string path)
    {
        using var stream = OpenRead(path);
        return ReadHeader(stream, path).Config;
    }

    /// <summary>Loads a checkpoint into a new model.</summary>
    public static GptNetwork Load(string path, IGptKernels kernels)
    {
        using var stream = OpenRead(path);
        var (config, version) = ReadHeader(stream, path);
        var model = new GptNetwork(config, kernels);
        try
        {
            ReadParameters(stream, version, model);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Writes an fp32 (version 3) checkpoint atomically.</summary>
    public static void Save(GptNetwork model, string path) => AtomicFile.Write(path, s => Write(model, s));

    public static void Write(GptNetwork model, Stream stream)
    {
        var c = model.Config;
        var header = new int[BinaryHeader.Ints];
        header[0] = Magic;
        header[1] = VersionFp32;
        header[2] = c.MaxSeqLen;
        header[3] = c.VocabSize;
        header[4] = c.NumLayers;
        header[5] = c.NumHeads;
        header[6] = c.Channels;
        header[7] = c.PaddedVocabSize;
        stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(header.AsSpan()));
        model.Kernels.WriteFloats(stream, model.Parameters.Pointer, model.Layout.Total);
    }

    private static FileStream OpenRead(string path)
    {
        if (!File.Exists(path))
        {
            throw new SharpGptException(path, "model checkpoint not found.");
        }

        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
    }

    private static (GptConfig Config, int Version) ReadHeader(Stream stream, string path)
    {
        int[] h = BinaryHeader.Read(stream, path, Magic, "llm.c GPT-2 checkpoint");
        int version = h[1];
        if (version != VersionFp32 && version != VersionBf16)
        {
            throw new SharpGptException(path, $"unsupported checkpoint version {version} (supported: 3 = fp32, 5 = bf16).");
        }

        var config = new GptConfig(MaxSeqLen: h[2], VocabSize: h[3], NumLayers: h[4], NumHeads: h[5], Channels: h[6]);
        config.Validate(path);
        if (h[7] != config.PaddedVocabSize)
        {
            throw new SharpGptException(path, $"padded_vocab_size is {h[7]}, expected {config.PaddedVocabSize} (vocab_size {config.VocabSize} rounded up to a multiple of {GptConfig.VocabPadding}).");
        }

        long total = new ParameterLayout(config).Total;
        int bytesPerParam = version == VersionFp32 ? 4 : 2;
        BinaryHeader.RequireLength(stream, path, checked(BinaryHeader.Bytes + (total * bytesPerParam)), $"{total} parameters of {bytesPerParam} bytes for this config");
        return (config, version);
    }

    private static void ReadParameters(Stream stream, int version, GptNetwork model)
    {
        long total = model.Layout.Total;
        if (version == VersionFp32)
        {
            model.Kernels.ReadFloats(stream, model.Parameters.Pointer, total);
            return;
        }

        using var weights = model.EditParameters(keepCurrent: false);
        float* dst = weights.Pointer;

        // bf16: the upper half of an fp32; widen in place from the back of the buffer.
        ushort* half = (ushort*)dst + total;
        const int chunk = 1 << 26;
        for (long done = 0; done < total; done += chunk)
        {
            int n = (int)Math.Min(chunk, total - done);
            stream.ReadExactly(new Span<byte>(half + done, n * sizeof(ushort)));
        }

        uint* bits = (uint*)dst;
        for (long i = 0; i < total; i++)
        {
            bits[i] = (uint)half[i] << 16;
        }
    }
}
