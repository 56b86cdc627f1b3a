namespace SharpGpt.Data;

/// <summary>The documents of one input piece, in order, empty texts left out. They may point into pooled memory
/// that <see cref="Dispose"/> returns, so they are valid until then.</summary>
internal sealed class PieceDocuments(IReadOnlyList<ReadOnlyMemory<char>> documents, IDisposable? owner = null) : IDisposable
{
    public IReadOnlyList<ReadOnlyMemory<char>> Documents => documents;

    public void Dispose() => owner?.Dispose();
}
