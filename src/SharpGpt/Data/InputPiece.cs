namespace SharpGpt.Data;

/// <summary>A part of the input that one thread turns into documents on its own: a chunk of JSONL lines, a Parquet
/// row group, a part of a .txt file. Pieces are cut in input order by one reader (<see cref="InputPieces"/>), so the decoding
/// of the text (JSON, Parquet pages, UTF-8) runs on every core with the tokenizing.</summary>
internal abstract class InputPiece(string path, long bytesRead, long weight)
{
    /// <summary>The file the piece comes from.</summary>
    public string Path => path;

    /// <summary>Input bytes read up to the end of this piece, the files before it included (for progress).</summary>
    public long BytesRead => bytesRead;

    /// <summary>About the memory its documents take while in flight: two bytes a character.</summary>
    public long Weight => weight;

    /// <summary>Whether the piece's first document is the rest of the previous piece's last one (the parts of a
    /// .txt file): it gets no end-of-text token of its own and counts as no new document.</summary>
    public virtual bool ContinuesDocument => false;

    /// <summary>Reads and decodes the piece's documents; throws naming the file and the place of bad input.
    /// <paramref name="readers"/> holds what the calling thread keeps open between pieces.</summary>
    public abstract PieceDocuments Read(PieceReaders readers);
}
