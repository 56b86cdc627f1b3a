namespace SharpGpt.Data;

/// <summary>Appends the tokens of one whole document (its end-of-text separator included) to a buffer. One
/// instance serves one thread at a time.</summary>
internal interface IDocumentEncoder
{
    void Encode(ReadOnlySpan<char> document, TokenBuffer tokens);
}
