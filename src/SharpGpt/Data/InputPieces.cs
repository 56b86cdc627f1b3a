namespace SharpGpt.Data;

/// <summary>Cuts the input files into pieces, in order: file by file, each in its own order.</summary>
internal static class InputPieces
{
    /// <summary>The pieces of <paramref name="files"/>. A .txt file is cut into parts of about
    /// <paramref name="textPieceChars"/> characters and, with <paramref name="textBreak"/>, into two documents at
    /// that character (the train/val split of a single .txt). In a fine-tuning <paramref name="format"/> (never
    /// <see cref="DataFormat.Auto"/> here) the pieces hold examples.</summary>
    public static IEnumerable<InputPiece> Split(IReadOnlyList<string> files, string textColumn, int textPieceChars = TextFilePiece.DefaultChars, long? textBreak = null,
        DataFormat format = DataFormat.Text)
    {
        long bytesBefore = 0;
        foreach (var file in files)
        {
            var length = new FileInfo(file).Length;
            if (length == 0)
            {
                throw new InvalidDataException($"{file}: input file is empty.");
            }

            foreach (var piece in SplitFile(file, textColumn, bytesBefore, textPieceChars, textBreak, format))
            {
                yield return piece;
            }

            bytesBefore += length;
        }
    }

    /// <summary>Whether a file is JSON lines, plain or gzipped.</summary>
    public static bool IsJsonl(string file) =>
        file.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || file.EndsWith(".jsonl.gz", StringComparison.OrdinalIgnoreCase);

    /// <summary>Resolves <see cref="DataFormat.Auto"/> from the first record of the first file: its fields for JSON
    /// lines, its columns for Parquet; a .txt is text.</summary>
    public static DataFormat ResolveFormat(IReadOnlyList<string> files, DataFormat format)
    {
        if (format != DataFormat.Auto)
        {
            return format;
        }

        var first = files[0];
        if (first.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase))
        {
            var columns = InputFormats.ParquetFor(first).Columns(first);
            return columns.Contains("messages") ? DataFormat.Chat
                : columns.Contains("prompt") && columns.Contains("completion") ? DataFormat.PromptCompletion
                : DataFormat.Text;
        }

        return IsJsonl(first) && JsonlChunk.FirstRecord(first) is { } record ? FineTuningRecord.Detect(record) : DataFormat.Text;
    }

    /// <summary>Total size of the files in bytes, the denominator of the progress.</summary>
    public static long TotalBytes(IReadOnlyList<string> files) => files.Sum(f => new FileInfo(f).Length);

    private static IEnumerable<InputPiece> SplitFile(string file, string textColumn, long bytesBefore, int textPieceChars, long? textBreak, DataFormat format)
    {
        if (file.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase))
        {
            return InputFormats.ParquetFor(file).Split(file, textColumn, bytesBefore, format);
        }

        if (IsJsonl(file))
        {
            return JsonlChunk.Split(file, textColumn, bytesBefore, format);
        }

        if (file.EndsWith(".txt", StringComparison.OrdinalIgnoreCase) && format != DataFormat.Text)
        {
            throw new SharpGptException(file, $"a .txt file is one document, not {FineTuningRecord.Name(format)} records", "give the examples as .jsonl, .jsonl.gz or .parquet, or prepare the .txt apart with Format text.");
        }

        return file.EndsWith(".txt", StringComparison.OrdinalIgnoreCase)
            ? TextFilePiece.Split(file, bytesBefore, textBreak, textPieceChars)
            : throw new SharpGptException(file, $"unsupported input type '{Path.GetExtension(file)}'", "expected .txt, .jsonl, .jsonl.gz or .parquet");
    }
}
