namespace SharpGpt.Data;

/// <summary>Appends the tokens of one document, or of a part of one cut where the cut changes no token, to a
/// buffer. One instance serves one thread at a time.</summary>
internal interface IDocumentEncoder
{
    /// <summary>Appends the tokens of <paramref name="text"/>, after the end-of-text separator when it
    /// <paramref name="startsDocument"/>.</summary>
    void Encode(ReadOnlySpan<char> text, bool startsDocument, TokenBuffer tokens);

    /// <summary>The tokenizer this thread's fine-tuning examples go through, piece by piece (<see cref="ChatTemplate"/>).</summary>
    GptTokenizer Tokenizer { get; }
}
