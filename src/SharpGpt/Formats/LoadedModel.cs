using SharpGpt.Model;

namespace SharpGpt.Formats;

/// <summary>A model read from a file, with what the file records besides the weights.</summary>
/// <param name="Network">The model.</param>
/// <param name="Tokenizer">The tokenizer the file records (SharpGPT checkpoints), else null.</param>
/// <param name="ChatTemplate">The name of the chat template the model was fine-tuned with, else null.</param>
/// <param name="Description">What the file held, in words.</param>
internal sealed record LoadedModel(GptNetwork Network, GptTokenizer? Tokenizer, string? ChatTemplate, string Description);
