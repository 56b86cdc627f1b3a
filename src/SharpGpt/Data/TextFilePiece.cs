namespace SharpGpt.Data;

/// <summary>A .txt file: one document, read whole.</summary>
internal sealed class TextFilePiece(string path, long bytesRead, long length) : InputPiece(path, bytesRead, 2 * length)
{
    public override PieceDocuments Read(ParquetFiles parquetFiles)
    {
        var text = File.ReadAllText(Path);
        return new PieceDocuments(text.Length > 0 ? [text.AsMemory()] : []);
    }
}
