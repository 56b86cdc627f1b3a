using Parquet;
using Parquet.Data;
using Parquet.Schema;

using SharpGpt.Data;

namespace SharpGpt.Parquet;

/// <summary>One row group of a .parquet file: its text column is read (Parquet.Net: snappy, zstd, gzip and the other
/// codecs) and decoded where the piece is encoded, so a thread's memory holds one row group's text at most. Fine-tuning
/// data has string columns "prompt" and "completion", or a "messages" column of lists of {role, content} structs
/// (Hugging Face's chat datasets); each row is then an example (<see cref="ParquetExamples"/>).</summary>
internal sealed class ParquetRowGroup(string path, int index, string textColumn, long bytesRead, long weight, DataFormat format = DataFormat.Text)
    : InputPiece(path, bytesRead, weight)
{
    /// <summary>A piece per row group, after checking the file is Parquet and has the columns of its format.</summary>
    public static IEnumerable<InputPiece> Split(string path, string column, long bytesBefore, DataFormat format = DataFormat.Text)
    {
        var fileLength = new FileInfo(path).Length;
        var reader = ParquetFiles.OpenReader(path);
        long[] compressed, uncompressed;
        try
        {
            if (format == DataFormat.Text)
            {
                TextField(reader, path, column);
            }
            else
            {
                ParquetExamples.CheckColumns(reader, path, format);
            }

            compressed = new long[reader.RowGroupCount];
            uncompressed = new long[reader.RowGroupCount];
            for (var g = 0; g < compressed.Length; g++)
            {
                using var group = reader.OpenRowGroupReader(g);
                compressed[g] = Math.Max(0, group.RowGroup.TotalCompressedSize ?? 0);
                uncompressed[g] = Math.Max(0, group.RowGroup.TotalByteSize);
            }
        }
        finally
        {
            ParquetFiles.Close(reader);
        }

        // Progress moves through the file in proportion to the row groups' compressed sizes.
        var total = Math.Max(1, compressed.Sum());
        long done = 0;
        for (var g = 0; g < compressed.Length; g++)
        {
            done += compressed[g];
            yield return new ParquetRowGroup(path, g, column, bytesBefore + (fileLength * done / total), 2 * uncompressed[g], format);
        }
    }

    public override PieceDocuments Read(PieceReaders readers)
    {
        var reader = readers.Get<ParquetFiles>().Open(Path);
        if (format != DataFormat.Text)
        {
            return new PieceDocuments(ParquetExamples.Read(reader, Path, index, format));
        }

        var field = TextField(reader, Path, textColumn);
        RawColumnData<ReadOnlyMemory<char>> data;
        try
        {
            // The raw read decodes the whole column into one pooled buffer of chars; Parquet.Net's string read
            // costs about three times the CPU, a string per row.
            using var group = reader.OpenRowGroupReader(index);
            data = (RawColumnData<ReadOnlyMemory<char>>)group.ReadRawColumnDataBaseAsync(field).AsTask().GetAwaiter().GetResult();
        }
        catch (Exception e) when (ParquetFiles.IsReadError(e))
        {
            throw new InvalidDataException($"{Path}: row group {index}: cannot read column \"{textColumn}\": {e.Message}", e);
        }

        try
        {
            var values = data.Values;
            var defined = data.DefinitionLevels;
            var documents = new List<ReadOnlyMemory<char>>(values.Length);
            for (var row = 0; row < values.Length; row++)
            {
                if (!defined.IsEmpty && defined[row] == 0)
                {
                    throw new InvalidDataException($"{Path}: row group {index}, row {row}: \"{textColumn}\" is null.");
                }

                if (!values[row].IsEmpty)
                {
                    documents.Add(values[row]);
                }
            }

            return new PieceDocuments(documents, data);
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    internal static DataField TextField(ParquetReader reader, string path, string column)
    {
        var fields = reader.Schema.Fields;
        if (fields.FirstOrDefault(f => f.Name == column) is not DataField field)
        {
            var names = string.Join(", ", fields.Select(f => f.Name));
            throw new InvalidDataException($"{path}: no column \"{column}\" (the file has {names}); TextColumn names the column to read.");
        }

        if (field.IsArray || (field.ClrType != typeof(string) && field.ClrType != typeof(ReadOnlyMemory<char>)))
        {
            throw new InvalidDataException($"{path}: column \"{column}\" holds {(field.IsArray ? "lists" : field.ClrType.Name)}, not text.");
        }

        return field;
    }
}
