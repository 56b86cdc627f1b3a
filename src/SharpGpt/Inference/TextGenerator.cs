namespace SharpGpt.Inference;

/// <summary>
/// One generation: prefills the prompt into a <see cref="KvCacheDecoder"/>, then draws tokens with a
/// <see cref="Sampler"/> until <see cref="GenerationOptions.MaxTokens"/>, the end-of-text token or a stop
/// sequence, handing each piece of finished text (whole characters, never part of a stop sequence) to a
/// callback as it is made. A cancellation request stops it between tokens.
/// </summary>
internal static class TextGenerator
{
    /// <param name="decoder">The model's decoder; reset by the prefill.</param>
    /// <param name="tokenizer">Decodes the tokens; null leaves the text empty (and stop sequences unmatched).</param>
    /// <param name="prompt">At least one token.</param>
    /// <param name="onText">Gets each new piece of text; may be null.</param>
    /// <param name="onToken">Gets each token as it is drawn (before its text); may be null.</param>
    public static GenerationResult Run(KvCacheDecoder decoder, GptTokenizer? tokenizer, ReadOnlySpan<int> prompt, GenerationOptions options,
        Action<string>? onText, CancellationToken cancellationToken, Action<int>? onToken = null)
    {
        options.Validate();
        var sampler = new Sampler(decoder, new SamplingOptions(options.TopK, options.Temperature, options.Seed ?? NewSeed(), options.TopP),
            tokenizer?.VocabSize ?? 0);
        var text = tokenizer is null ? null : new TokenTextStream(tokenizer);
        var stops = new StopSequenceFilter(tokenizer is null ? [] : options.StopSequences);
        var output = new System.Text.StringBuilder();
        var tokens = new List<int>(Math.Min(options.MaxTokens, 4096));
        int? endOfText = options.StopAtEndOfText ? tokenizer?.EndOfTextToken : null;
        var reason = FinishReason.Length;

        void Emit(string piece)
        {
            if (piece.Length > 0)
            {
                output.Append(piece);
                onText?.Invoke(piece);
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (options.MaxTokens > 0)
        {
            var logits = decoder.Prefill(prompt);
            for (int i = 0; i < options.MaxTokens; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int token = sampler.Next(logits);
                if (token == endOfText)
                {
                    reason = FinishReason.EndOfText;
                    break;
                }

                tokens.Add(token);
                onToken?.Invoke(token);
                if (text is not null)
                {
                    Emit(stops.Push(text.Add(token)));
                    if (stops.Stopped)
                    {
                        reason = FinishReason.StopSequence;
                        break;
                    }
                }

                if (i + 1 < options.MaxTokens)
                {
                    logits = decoder.Append(token);
                }
            }
        }

        if (text is not null && !stops.Stopped)
        {
            Emit(stops.Push(text.Flush()));
            reason = stops.Stopped ? FinishReason.StopSequence : reason;
            Emit(stops.Flush());
        }

        return new GenerationResult(output.ToString(), tokens, Math.Min(prompt.Length, decoder.Config.MaxSeqLen), reason);
    }

    /// <summary>A fresh seed for a generation that asked for none.</summary>
    public static ulong NewSeed() => (ulong)Random.Shared.NextInt64() ^ (ulong)Environment.TickCount64;

}
