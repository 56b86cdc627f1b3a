namespace SharpGpt.Data;

/// <summary>Character-level encoding of whole documents: the char tokenizer has no end-of-text token, so documents
/// are simply concatenated.</summary>
internal sealed class CharDocumentEncoder(CharTokenizer tokenizer) : IDocumentEncoder
{
    public void Encode(ReadOnlySpan<char> document, TokenBuffer tokens) => tokens.AddRange(tokenizer.Encode(document.ToString()));
}
