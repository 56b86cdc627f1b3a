namespace SharpGpt.Data;

/// <summary>Cuts the input files into pieces, in order: file by file, each in its own order.</summary>
internal static class InputPieces
{
    /// <summary>The pieces of <paramref name="files"/>. A .txt file is cut into parts of about
    /// <paramref name="textPieceChars"/> characters and, with <paramref name="textBreak"/>, into two documents at
    /// that character (the train/val split of a single .txt).</summary>
    public static IEnumerable<InputPiece> Split(IReadOnlyList<string> files, string textColumn, int textPieceChars = TextFilePiece.DefaultChars, long? textBreak = null)
    {
        long bytesBefore = 0;
        foreach (var file in files)
        {
            var length = new FileInfo(file).Length;
            if (length == 0)
            {
                throw new InvalidDataException($"{file}: input file is empty.");
            }

            foreach (var piece in SplitFile(file, textColumn, bytesBefore, textPieceChars, textBreak))
            {
                yield return piece;
            }

            bytesBefore += length;
        }
    }

    /// <summary>Total size of the files in bytes, the denominator of the progress.</summary>
    public static long TotalBytes(IReadOnlyList<string> files) => files.Sum(f => new FileInfo(f).Length);

    private static IEnumerable<InputPiece> SplitFile(string file, string textColumn, long bytesBefore, int textPieceChars, long? textBreak)
    {
        if (file.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase))
        {
            return InputFormats.ParquetFor(file).Split(file, textColumn, bytesBefore);
        }

        if (file.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || file.EndsWith(".jsonl.gz", StringComparison.OrdinalIgnoreCase))
        {
            return JsonlChunk.Split(file, textColumn, bytesBefore);
        }

        return file.EndsWith(".txt", StringComparison.OrdinalIgnoreCase)
            ? TextFilePiece.Split(file, bytesBefore, textBreak, textPieceChars)
            : throw new SharpGptException(file, $"unsupported input type '{Path.GetExtension(file)}'", "expected .txt, .jsonl, .jsonl.gz or .parquet");
    }
}
