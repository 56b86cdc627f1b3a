namespace SharpGpt.Inference;

/// <summary>
/// One generation on its own: prefills the prompt into a <see cref="KvCacheDecoder"/>, then draws tokens
/// (<see cref="GenerationSequence"/>) until <see cref="GenerationOptions.MaxTokens"/>, the end-of-text token or a
/// stop sequence, handing each piece of finished text (whole characters, never part of a stop sequence) to a
/// callback as it is made. A cancellation request stops it between tokens.
/// </summary>
internal static class TextGenerator
{
    /// <param name="decoder">The model's decoder; reset by the prefill.</param>
    /// <param name="tokenizer">Decodes the tokens; null leaves the text empty (and stop sequences unmatched).</param>
    /// <param name="prompt">At least one token.</param>
    /// <param name="onText">Gets each new piece of text; may be null.</param>
    public static GenerationResult Run(KvCacheDecoder decoder, GptTokenizer? tokenizer, ReadOnlySpan<int> prompt, GenerationOptions options,
        Action<string>? onText, CancellationToken cancellationToken)
    {
        options.Validate();
        var sequence = new GenerationSequence(tokenizer, options, decoder.Config.VocabSize, onText);
        cancellationToken.ThrowIfCancellationRequested();
        if (options.MaxTokens > 0)
        {
            var logits = decoder.Prefill(prompt);
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!sequence.Next(logits))
                {
                    break;
                }

                logits = decoder.Append(sequence.LastToken);
            }
        }

        return sequence.Finish(Math.Min(prompt.Length, decoder.Config.MaxSeqLen));
    }

    /// <summary>A fresh seed for a generation that asked for none.</summary>
    public static ulong NewSeed() => (ulong)Random.Shared.NextInt64() ^ (ulong)Environment.TickCount64;
}
