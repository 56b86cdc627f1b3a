namespace SharpGpt.Data;

/// <summary>A kind of input file that a companion assembly reads (SharpGpt.Parquet's .parquet files), found by
/// <see cref="InputFormats"/> when such a file is given.</summary>
internal interface IInputFormat
{
    /// <summary>The pieces of one file, in order; <paramref name="bytesBefore"/> is the input read before it, for progress.</summary>
    IEnumerable<InputPiece> Split(string path, string textColumn, long bytesBefore);
}
