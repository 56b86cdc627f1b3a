namespace SharpGpt;

/// <summary>What a generation produced.</summary>
/// <param name="Text">The generated text, without the prompt, up to (not including) a stop sequence; empty when the
/// model has no tokenizer.</param>
/// <param name="Tokens">The generated token ids, including those of a stop sequence but not the end-of-text token.</param>
/// <param name="PromptTokenCount">The tokens of the prompt as the model read it.</param>
/// <param name="FinishReason">Why it ended.</param>
public sealed record GenerationResult(string Text, IReadOnlyList<int> Tokens, int PromptTokenCount, FinishReason FinishReason)
{
    /// <summary>The number of tokens generated (<see cref="Tokens"/>, plus the end-of-text token when it ended the text).</summary>
    public int OutputTokenCount => Tokens.Count + (FinishReason == FinishReason.EndOfText ? 1 : 0);

    /// <summary>The generated text.</summary>
    /// <returns><see cref="Text"/>.</returns>
    public override string ToString() => Text;
}
