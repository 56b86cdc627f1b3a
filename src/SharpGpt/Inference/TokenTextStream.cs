namespace SharpGpt.Inference;

/// <summary>
/// Turns a stream of token ids into text as it grows, in whole characters. A byte-level BPE token can end
/// inside a UTF-8 character, which decodes as U+FFFD until the next token completes it: the tokens since the
/// last complete decode are decoded together, and a trailing U+FFFD is held back until more tokens arrive
/// (or the stream ends). Decoding restarts after every complete decode, so the work is linear in the tokens,
/// and the text is the same as decoding all the tokens at once.
/// </summary>
internal sealed class TokenTextStream(GptTokenizer tokenizer)
{
    private readonly List<int> _pending = [];
    private int _printed;   // chars of the pending tokens' text already returned

    /// <summary>Adds a token and returns the text that is now complete (often empty, or one token's text).</summary>
    public string Add(int token)
    {
        _pending.Add(token);
        string text = tokenizer.Decode(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pending));
        int end = text.Length;
        while (end > _printed && text[end - 1] == '\uFFFD')
        {
            end--;
        }

        string fresh = end > _printed ? text[_printed..end] : "";
        if (end == text.Length)
        {
            _pending.Clear();
            _printed = 0;
        }
        else
        {
            _printed = Math.Max(_printed, end);
        }

        return fresh;
    }

    /// <summary>Whatever was held back, at the end of the stream.</summary>
    public string Flush()
    {
        string text = tokenizer.Decode(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pending));
        string rest = _printed < text.Length ? text[_printed..] : "";
        _pending.Clear();
        _printed = 0;
        return rest;
    }
}
