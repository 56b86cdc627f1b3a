using System.Text;

namespace SharpGpt.Inference;

/// <summary>
/// One generation between its tokens, whatever decodes it: draws each token from the logits with its own
/// <see cref="Sampler"/> (its own seed), turns the tokens into text (<see cref="TokenTextStream"/>: whole
/// characters) with stop sequences held back (<see cref="StopSequenceFilter"/>), and knows when and why it ends:
/// <see cref="GenerationOptions.MaxTokens"/>, the end-of-text token or a stop sequence. A single decode
/// (<see cref="TextGenerator"/>) and a batched one (<see cref="GptBatchGenerator"/>) share it, so a sequence ends
/// alike in both.
/// </summary>
internal sealed class GenerationSequence
{
    private readonly Sampler _sampler;
    private readonly TokenTextStream? _text;
    private readonly StopSequenceFilter _stops;
    private readonly Action<string>? _onText;
    private readonly StringBuilder _output = new();
    private readonly List<int> _tokens;
    private readonly int? _endOfText;
    private readonly int _maxTokens;
    private FinishReason _reason = FinishReason.Length;

    /// <param name="tokenizer">Decodes the tokens; null leaves the text empty (and stop sequences unmatched).</param>
    /// <param name="options">Validated options; a null seed draws a fresh one.</param>
    /// <param name="modelVocab">The model's vocabulary size (the length of a row of logits).</param>
    /// <param name="onText">Gets each new piece of text; may be null.</param>
    public GenerationSequence(GptTokenizer? tokenizer, GenerationOptions options, int modelVocab, Action<string>? onText)
    {
        _sampler = new Sampler(new SamplingOptions(options.TopK, options.Temperature, options.Seed ?? TextGenerator.NewSeed(), options.TopP),
            modelVocab, tokenizer?.VocabSize ?? 0);
        _text = tokenizer is null ? null : new TokenTextStream(tokenizer);
        _stops = new StopSequenceFilter(tokenizer is null ? [] : options.StopSequences);
        _onText = onText;
        _tokens = new List<int>(Math.Min(options.MaxTokens, 4096));
        _endOfText = options.StopAtEndOfText ? tokenizer?.EndOfTextToken : null;
        _maxTokens = options.MaxTokens;
    }

    /// <summary>The token drawn last: the next one to feed the decoder while <see cref="Next"/> returns true.</summary>
    public int LastToken { get; private set; } = -1;

    /// <summary>Whether the generation is over (or asks for no token at all).</summary>
    public bool Ended { get; private set; }

    /// <summary>Draws the next token from the logits after the context (the prompt and the tokens so far) and hands
    /// on its text. Returns whether the generation goes on, with <see cref="LastToken"/> to be decoded next.</summary>
    public bool Next(ReadOnlySpan<float> logits)
    {
        if (Ended || _maxTokens == 0)
        {
            Ended = true;
            return false;
        }

        int token = _sampler.Next(logits);
        if (token == _endOfText)
        {
            _reason = FinishReason.EndOfText;
            Ended = true;
            return false;
        }

        _tokens.Add(token);
        LastToken = token;
        if (_text is not null)
        {
            Emit(_stops.Push(_text.Add(token)));
            if (_stops.Stopped)
            {
                _reason = FinishReason.StopSequence;
                Ended = true;
                return false;
            }
        }

        Ended = _tokens.Count >= _maxTokens;
        return !Ended;
    }

    /// <summary>Ends the generation: hands on the text held back (the end of a character, the start of a stop sequence
    /// that never completed) and returns the result.</summary>
    /// <param name="promptTokenCount">The prompt's tokens as the model read them.</param>
    public GenerationResult Finish(int promptTokenCount)
    {
        Ended = true;
        if (_text is not null && !_stops.Stopped)
        {
            Emit(_stops.Push(_text.Flush()));
            _reason = _stops.Stopped ? FinishReason.StopSequence : _reason;
            Emit(_stops.Flush());
        }

        return new GenerationResult(_output.ToString(), _tokens, promptTokenCount, _reason);
    }

    private void Emit(string piece)
    {
        if (piece.Length > 0)
        {
            _output.Append(piece);
            _onText?.Invoke(piece);
        }
    }
}
