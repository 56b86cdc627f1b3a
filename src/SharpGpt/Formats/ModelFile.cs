using SharpGpt.Data;
using SharpGpt.Kernels;
using SharpGpt.Model;
using SharpGpt.Training;

namespace SharpGpt.Formats;

/// <summary>Opens a model from any supported file: a SharpGPT checkpoint (.sgpt), an llm.c checkpoint (.bin),
/// or a Hugging Face GPT-2 (a .safetensors file, or a folder holding model.safetensors and config.json).
/// A file is read as the format its first bytes say it is, else as the one its extension names, so an
/// error describes the file as what it claims to be.</summary>
internal static class ModelFile
{
    private const int LongestMagic = 8;

    /// <returns>The model, and its tokenizer when the file records one.</returns>
    public static (GptNetwork Model, GptTokenizer? Tokenizer) Load(string path, IGptKernels kernels)
    {
        var loaded = Open(path, kernels);
        return (loaded.Network, loaded.Tokenizer);
    }

    /// <summary>Opens a model file with everything it records besides the weights.</summary>
    /// <param name="heads">n_head for a Hugging Face model without config.json.</param>
    public static LoadedModel Open(string path, IGptKernels kernels, int? heads = null)
    {
        if (HuggingFaceGpt2.IsHuggingFacePath(path))
        {
            var (model, info) = HuggingFaceGpt2.Import(path, kernels, heads);
            string ignored = info.IgnoredTensors.Count == 0 ? ""
                : $"; ignored {string.Join(", ", info.IgnoredTensors.Take(4))}{(info.IgnoredTensors.Count > 4 ? ", ..." : "")}";
            return new LoadedModel(model, null, null, $"Hugging Face GPT-2 {info.Describe()}{ignored}");
        }

        if (IsSharpGpt(path))
        {
            var (model, meta) = TrainingCheckpoint.LoadModel(path, kernels);
            string step = meta.Step > 0 ? $" at step {meta.Step}" : "";
            return new LoadedModel(model, TokenizerOf(meta, path), meta.ChatTemplate, $"SharpGPT checkpoint {path}{step}: {TrainingCheckpoint.Describe(meta.Config)}");
        }

        var llmc = LlmcCheckpoint.Load(path, kernels);
        return new LoadedModel(llmc, null, null, $"llm.c checkpoint {path}: {TrainingCheckpoint.Describe(llmc.Config)}");
    }

    /// <summary>The model shape a file holds, without reading its weights.</summary>
    public static GptConfig ReadConfig(string path) =>
        HuggingFaceGpt2.IsHuggingFacePath(path) ? HuggingFaceGpt2.ReadConfig(path)
        : IsSharpGpt(path) ? TrainingCheckpoint.ReadMetadata(path).Config
        : LlmcCheckpoint.ReadConfig(path);

    /// <summary>True for a SharpGPT checkpoint, false for an llm.c one; throws for a file that is neither by its
    /// magic nor by its extension.</summary>
    private static bool IsSharpGpt(string path)
    {
        if (!File.Exists(path))
        {
            throw new SharpGptException(path, "model file not found.");
        }

        Span<byte> head = stackalloc byte[LongestMagic];
        int read;
        using (var stream = File.OpenRead(path))
        {
            read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }

        if (read == LongestMagic && TrainingCheckpoint.IsMagic(head))
        {
            return true;
        }

        if (read >= sizeof(int) && BitConverter.ToInt32(head) == LlmcCheckpoint.Magic)
        {
            return false;
        }

        string extension = Path.GetExtension(path);
        if (extension.Equals(TrainingCheckpoint.Extension, StringComparison.OrdinalIgnoreCase))
        {
            return true; // its reader says what is wrong with it
        }

        if (extension.Equals(".bin", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        throw new SharpGptException(path, read == 0 ? "the file is empty, not a model"
            : $"not a model file: it starts with neither a SharpGPT checkpoint's SGPTCKPT nor an llm.c checkpoint's magic {LlmcCheckpoint.Magic}",
            "pass a .sgpt, .bin or .safetensors file, or a Hugging Face model folder.");
    }

    private static GptTokenizer? TokenizerOf(CheckpointMetadata meta, string path)
    {
        if (meta.TokenizerJson is null)
        {
            return null;
        }

        return TokenizerFactory.FromFile(TokenizerFile.FromJson(meta.TokenizerJson, path), path);
    }
}
