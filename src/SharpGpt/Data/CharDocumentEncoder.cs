namespace SharpGpt.Data;

/// <summary>Character-level encoding of documents: the char tokenizer has no end-of-text token, so documents are
/// simply concatenated.</summary>
internal sealed class CharDocumentEncoder(CharTokenizer tokenizer) : IDocumentEncoder
{
    public GptTokenizer Tokenizer => tokenizer;

    public void Encode(ReadOnlySpan<char> text, bool startsDocument, TokenBuffer tokens) =>
        tokens.Advance(tokenizer.EncodeInto(text, tokens.GetSpan(text.Length)));
}
