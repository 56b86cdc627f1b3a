namespace SharpGpt.Data;

/// <summary>A .txt file: one document, read whole.</summary>
internal sealed class TextFilePiece(string path, long bytesRead, long length) : InputPiece(path, bytesRead, 2 * length)
{
    public override IEnumerable<string> Documents(ParquetFiles parquetFiles)
    {
        var text = File.ReadAllText(Path);
        return text.Length > 0 ? [text] : [];
    }
}
