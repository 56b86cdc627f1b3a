using SharpGpt.Data;

namespace SharpGpt.Parquet;

/// <summary>What the engine finds by name (<see cref="InputFormats.ParquetTypeName"/>) when a .parquet file is given:
/// a piece per row group of the file.</summary>
internal sealed class ParquetInputFormat : IInputFormat
{
    public IEnumerable<InputPiece> Split(string path, string textColumn, long bytesBefore, DataFormat format) =>
        ParquetRowGroup.Split(path, textColumn, bytesBefore, format);

    public IReadOnlyList<string> Columns(string path)
    {
        var reader = ParquetFiles.OpenReader(path);
        try
        {
            return [.. reader.Schema.Fields.Select(f => f.Name)];
        }
        finally
        {
            ParquetFiles.Close(reader);
        }
    }
}
