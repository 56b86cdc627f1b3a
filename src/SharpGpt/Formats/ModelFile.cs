using SharpGpt.Data;
using SharpGpt.Kernels;
using SharpGpt.Model;
using SharpGpt.Training;

namespace SharpGpt.Formats;

/// <summary>Opens a model from any supported file: a SharpGPT checkpoint (.sgpt), an llm.c checkpoint (.bin),
/// or a Hugging Face GPT-2 (a .safetensors file, or a folder holding model.safetensors and config.json).
/// A file is read as the format its first bytes say it is, else as the one its extension names, so an
/// error describes the file as what it claims to be.</summary>
public static class ModelFile
{
    private const int LongestMagic = 8;

    /// <returns>The model, and its tokenizer when the file records one.</returns>
    public static (GptModel Model, ITextTokenizer? Tokenizer) Load(string path, IGptKernels kernels)
    {
        if (HuggingFaceGpt2.IsHuggingFacePath(path))
        {
            return (HuggingFaceGpt2.Load(path, kernels), null);
        }

        if (IsSharpGpt(path))
        {
            var (model, meta) = TrainingCheckpoint.LoadModel(path, kernels);
            return (model, TokenizerOf(meta, path));
        }

        return (LlmcCheckpoint.Load(path, kernels), null);
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
            throw new UserErrorException(path, "model file not found.");
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

        throw new UserErrorException(path, read == 0 ? "the file is empty, not a model"
            : $"not a model file: it starts with neither a SharpGPT checkpoint's SGPTCKPT nor an llm.c checkpoint's magic {LlmcCheckpoint.Magic}",
            "pass a .sgpt, .bin or .safetensors file, or a Hugging Face model folder.");
    }

    private static ITextTokenizer? TokenizerOf(CheckpointMetadata meta, string path)
    {
        if (meta.TokenizerJson is null)
        {
            return null;
        }

        return TokenizerFactory.FromFile(TokenizerFile.FromJson(meta.TokenizerJson, path), path);
    }
}
