using SharpGpt.Data;

namespace SharpGpt.Parquet;

/// <summary>What the engine finds by name (<see cref="InputFormats.ParquetTypeName"/>) when a .parquet file is given:
/// a piece per row group of the file.</summary>
internal sealed class ParquetInputFormat : IInputFormat
{
    public IEnumerable<InputPiece> Split(string path, string textColumn, long bytesBefore) => ParquetRowGroup.Split(path, textColumn, bytesBefore);
}
