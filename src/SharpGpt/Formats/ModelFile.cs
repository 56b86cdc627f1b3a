using SharpGpt.Data;
using SharpGpt.Kernels;
using SharpGpt.Model;
using SharpGpt.Training;

namespace SharpGpt.Formats;

/// <summary>Opens a model from any supported file: a SharpGPT checkpoint (.sgpt), an llm.c checkpoint (.bin),
/// or a Hugging Face GPT-2 (a .safetensors file, or a folder holding model.safetensors and config.json).</summary>
public static class ModelFile
{
    /// <returns>The model, and its tokenizer when the file records one.</returns>
    public static (GptModel Model, ITextTokenizer? Tokenizer) Load(string path, IGptKernels kernels)
    {
        if (HuggingFaceGpt2.IsHuggingFacePath(path))
        {
            return (HuggingFaceGpt2.Load(path, kernels), null);
        }

        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: model file not found.", path);
        }

        if (TrainingCheckpoint.IsCheckpoint(path))
        {
            var (model, meta) = TrainingCheckpoint.LoadModel(path, kernels);
            return (model, TokenizerOf(meta, path));
        }

        return (LlmcCheckpoint.Load(path, kernels), null);
    }

    /// <summary>The model shape a file holds, without reading its weights.</summary>
    public static GptConfig ReadConfig(string path) =>
        HuggingFaceGpt2.IsHuggingFacePath(path) ? HuggingFaceGpt2.ReadConfig(path)
        : File.Exists(path) && TrainingCheckpoint.IsCheckpoint(path) ? TrainingCheckpoint.ReadMetadata(path).Config
        : LlmcCheckpoint.ReadConfig(path);

    private static ITextTokenizer? TokenizerOf(CheckpointMetadata meta, string path)
    {
        if (meta.TokenizerJson is null)
        {
            return null;
        }

        return TokenizerFactory.FromFile(TokenizerFile.FromJson(meta.TokenizerJson, path), path);
    }
}
