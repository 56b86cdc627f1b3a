using Parquet;

namespace SharpGpt.Parquet;

/// <summary>The Parquet file one thread has open: row groups come in file order, so keeping the last one open saves
/// reading its footer again for every row group.</summary>
internal sealed class ParquetFiles : IDisposable
{
    private ParquetReader? _reader;
    private string? _path;

    public ParquetReader Open(string path)
    {
        if (_path != path)
        {
            Dispose();
            _reader = OpenReader(path);
            _path = path;
        }

        return _reader!;
    }

    public void Dispose()
    {
        if (_reader is not null)
        {
            Close(_reader);
            (_reader, _path) = (null, null);
        }
    }

    public static ParquetReader OpenReader(string path)
    {
        try
        {
            return ParquetReader.CreateAsync(path).GetAwaiter().GetResult();
        }
        catch (Exception e) when (IsReadError(e))
        {
            throw new InvalidDataException($"{path}: not a readable Parquet file: {e.Message}", e);
        }
    }

    // Parquet.Net's reader is only IAsyncDisposable; this reading is synchronous.
    public static void Close(ParquetReader reader) => reader.DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Parquet.Net reports a damaged file with several exception types (IOException, its Thrift and Parquet
    /// exceptions, the decompressors' own): whatever it throws while reading means the file cannot be read.</summary>
    public static bool IsReadError(Exception e) => e is not (OutOfMemoryException or OperationCanceledException);
}
