namespace SharpGpt.Data;

/// <summary>The documents of one input piece, in order, empty texts left out; or, for fine-tuning data, its
/// examples. They may point into pooled memory that <see cref="Dispose"/> returns, so they are valid until then.</summary>
internal sealed class PieceDocuments(IReadOnlyList<ReadOnlyMemory<char>> documents, IDisposable? owner = null) : IDisposable
{
    /// <summary>The examples of a piece of fine-tuning data (prompt/completion pairs or conversations).</summary>
    public PieceDocuments(IReadOnlyList<ChatExample> examples)
        : this(Array.Empty<ReadOnlyMemory<char>>())
    {
        Examples = examples;
    }

    public IReadOnlyList<ReadOnlyMemory<char>> Documents => documents;

    /// <summary>The examples, for fine-tuning data; null for documents.</summary>
    public IReadOnlyList<ChatExample>? Examples { get; }

    public void Dispose() => owner?.Dispose();
}
