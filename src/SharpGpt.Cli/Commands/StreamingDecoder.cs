using SharpGpt.Data;

namespace SharpGpt.Cli.Commands;

/// <summary>
/// Turns a stream of token ids into text as it grows. A byte-level BPE token can end inside a
/// UTF-8 character, so the whole sequence is decoded each time and a trailing replacement
/// character is held back until the next token completes it.
/// </summary>
internal sealed class StreamingDecoder(ITextTokenizer tokenizer, int capacity)
{
    private readonly List<int> _tokens = new(capacity);
    private int _printed;

    /// <summary>Adds a token and returns the text that is now complete.</summary>
    public string Add(int token)
    {
        _tokens.Add(token);
        string text = tokenizer.Decode(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_tokens));
        int end = text.Length;
        while (end > _printed && text[end - 1] == '\uFFFD')
        {
            end--;
        }

        string fresh = end > _printed ? text[_printed..end] : "";
        _printed = Math.Max(_printed, end);
        return fresh;
    }

    /// <summary>Whatever was held back, at the end of the stream.</summary>
    public string Flush()
    {
        string text = tokenizer.Decode(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_tokens));
        return _printed < text.Length ? text[_printed..] : "";
    }
}
