namespace SharpGpt.Data;

/// <summary>A kind of input file that a companion assembly reads (SharpGpt.Parquet's .parquet files), found by
/// <see cref="InputFormats"/> when such a file is given.</summary>
internal interface IInputFormat
{
    /// <summary>The pieces of one file, in order; <paramref name="bytesBefore"/> is the input read before it, for
    /// progress. <paramref name="format"/> says whether its rows are documents (in <paramref name="textColumn"/>),
    /// prompt/completion pairs or conversations.</summary>
    IEnumerable<InputPiece> Split(string path, string textColumn, long bytesBefore, DataFormat format);

    /// <summary>The names of the file's top-level columns, which <see cref="DataFormat.Auto"/> decides from.</summary>
    IReadOnlyList<string> Columns(string path);
}
