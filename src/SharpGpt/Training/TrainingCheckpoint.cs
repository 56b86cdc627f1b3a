using System.Text;
using System.Text.Json;
using SharpGpt.Formats;
using SharpGpt.Kernels;
using SharpGpt.Model;

namespace SharpGpt.Training;

/// <summary>
/// SharpGPT's checkpoint: "SGPTCKPT", a version, a JSON block (config, step, loader position, RNG
/// state, run settings, tokenizer), then the parameters and, for resuming, both AdamW moments.
/// Written to a temporary file and renamed, so a crash never leaves a half-written checkpoint.
/// </summary>
internal static unsafe class TrainingCheckpoint
{
    public const string Extension = ".sgpt";
    private const int FormatVersion = 1;
    private const int MaxJsonBytes = 1 << 24;
    private static readonly byte[] Magic = "SGPTCKPT"u8.ToArray();

    public static void Save(string path, GptNetwork model, AdamWOptimizer? optimizer, CheckpointMetadata metadata) =>
        Save(path, model, metadata, optimizer is null ? null : stream =>
        {
            model.Kernels.WriteFloats(stream, optimizer.M.Pointer, model.Layout.Total);
            model.Kernels.WriteFloats(stream, optimizer.V.Pointer, model.Layout.Total);
        });

    /// <summary>
    /// Saves with the moments of a data-parallel optimizer. With ZeRO-1 the moments are gathered
    /// from every rank while they are written, so the ranks that do not write call
    /// <see cref="IDistributedOptimizer.WriteMoments"/> with no stream at the same time.
    /// </summary>
    public static void Save(string path, GptNetwork model, IDistributedOptimizer optimizer, CheckpointMetadata metadata) =>
        Save(path, model, metadata, optimizer.WriteMoments);

    /// <summary>Saves the weights alone, with the tokenizer and chat template: a model to open or fine-tune, not to resume.</summary>
    public static void SaveWeights(string path, GptNetwork model, GptTokenizer? tokenizer, string? chatTemplate) =>
        Save(path, model, new CheckpointMetadata(model.Config, 0, 0, 0, 0, [0, 0, 0, 0], null,
            tokenizer is null ? null : Data.TokenizerFile.Of(tokenizer).ToJson(), HasOptimizerState: false)
        { ChatTemplate = chatTemplate }, writeMoments: null);

    private static void Save(string path, GptNetwork model, CheckpointMetadata metadata, Action<Stream>? writeMoments)
    {
        AtomicFile.Write(path, stream =>
        {
            byte[] json = JsonSerializer.SerializeToUtf8Bytes(metadata with { HasOptimizerState = writeMoments is not null });
            var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            writer.Write(Magic);
            writer.Write(FormatVersion);
            writer.Write(json.Length);
            writer.Write(json);
            writer.Flush();
            model.Kernels.WriteFloats(stream, model.Parameters.Pointer, model.Layout.Total);
            writeMoments?.Invoke(stream);
        });
    }

    /// <summary>Whether a file's first eight bytes are a SharpGPT checkpoint's signature.</summary>
    public static bool IsMagic(ReadOnlySpan<byte> head) => head.SequenceEqual(Magic);

    public static CheckpointMetadata ReadMetadata(string path)
    {
        using var stream = OpenRead(path);
        return ReadHeader(stream, path).Metadata;
    }

    /// <summary>Loads the model alone (for sampling and evaluation).</summary>
    public static (GptNetwork Model, CheckpointMetadata Metadata) LoadModel(string path, IGptKernels kernels)
    {
        using var stream = OpenRead(path);
        var (metadata, _) = ReadHeader(stream, path);
        var model = new GptNetwork(metadata.Config, kernels);
        try
        {
            model.Kernels.ReadFloats(stream, model.Parameters.Pointer, model.Layout.Total);
            return (model, metadata);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Restores parameters and AdamW moments into an existing model and optimizer.</summary>
    public static CheckpointMetadata Restore(string path, GptNetwork model, AdamWOptimizer optimizer) =>
        Restore(path, model, stream =>
        {
            model.Kernels.ReadFloats(stream, optimizer.M.Pointer, model.Layout.Total);
            model.Kernels.ReadFloats(stream, optimizer.V.Pointer, model.Layout.Total);
        }, step => optimizer.Step = step);

    /// <summary>Restores parameters and this rank's part of the moments of a data-parallel optimizer.</summary>
    public static CheckpointMetadata Restore(string path, GptNetwork model, IDistributedOptimizer optimizer) =>
        Restore(path, model, optimizer.ReadMoments, step => optimizer.Step = step);

    private static CheckpointMetadata Restore(string path, GptNetwork model, Action<Stream> readMoments, Action<int> setStep)
    {
        using var stream = OpenRead(path);
        var (metadata, _) = ReadHeader(stream, path);
        if (metadata.Config != model.Config)
        {
            throw new SharpGptException(path, $"the checkpoint's model ({Describe(metadata.Config)}) differs from the requested one ({Describe(model.Config)}).");
        }

        if (!metadata.HasOptimizerState)
        {
            throw new SharpGptException(path, "holds no optimizer state, so training cannot resume from it; start a new run from its weights instead.");
        }

        model.Kernels.ReadFloats(stream, model.Parameters.Pointer, model.Layout.Total);
        readMoments(stream);
        setStep(metadata.OptimizerStep);
        return metadata;
    }

    public static string Describe(GptConfig c) => $"{c.NumLayers} layers, {c.NumHeads} heads, {c.Channels} channels, vocab {c.VocabSize}, block {c.MaxSeqLen}";

    /// <summary>The checkpoint with the highest step in a folder, or null.</summary>
    public static string? FindLatest(string dir)
    {
        if (!Directory.Exists(dir))
        {
            return null;
        }

        return Directory.GetFiles(dir, "ckpt_*" + Extension).OrderBy(f => f, StringComparer.Ordinal).LastOrDefault();
    }

    public static string PathFor(string dir, int step) => Path.Combine(dir, $"ckpt_{step:D7}{Extension}");

    private static FileStream OpenRead(string path)
    {
        if (!File.Exists(path))
        {
            throw new SharpGptException(path, "checkpoint not found.");
        }

        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
    }

    private static (CheckpointMetadata Metadata, long DataStart) ReadHeader(Stream stream, string path)
    {
        var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        if (stream.Length < 16 || !reader.ReadBytes(8).AsSpan().SequenceEqual(Magic))
        {
            throw new SharpGptException(path, "not a SharpGPT checkpoint (missing the SGPTCKPT signature).");
        }

        int version = reader.ReadInt32();
        if (version != FormatVersion)
        {
            throw new SharpGptException(path, $"unsupported checkpoint format version {version} (supported: {FormatVersion}).");
        }

        int jsonLength = reader.ReadInt32();
        if (jsonLength <= 0 || jsonLength > MaxJsonBytes || 16 + jsonLength > stream.Length)
        {
            throw new SharpGptException(path, $"corrupt header: metadata length {jsonLength} does not fit a {stream.Length}-byte file.");
        }

        CheckpointMetadata metadata;
        try
        {
            metadata = JsonSerializer.Deserialize<CheckpointMetadata>(reader.ReadBytes(jsonLength))
                ?? throw new SharpGptException(path, "empty metadata.");
        }
        catch (JsonException e)
        {
            throw new SharpGptException(path, $"corrupt metadata: {e.Message}", innerException: e);
        }

        metadata.Config.Validate(path);
        long total = new ParameterLayout(metadata.Config).Total;
        long expected = checked(16 + jsonLength + (total * sizeof(float) * (metadata.HasOptimizerState ? 3 : 1)));
        BinaryHeader.RequireLength(stream, path, expected, $"{total} parameters{(metadata.HasOptimizerState ? " and two AdamW moments" : "")}");
        return (metadata, 16 + jsonLength);
    }
}
