namespace SharpGpt.Data;

/// <summary>What one reading thread keeps open between the pieces it reads, by type (a Parquet file's reader, say,
/// so a file's footer is read once per thread rather than once per row group); disposed with the thread.</summary>
internal sealed class PieceReaders : IDisposable
{
    private readonly Dictionary<Type, IDisposable> _open = [];

    /// <summary>This thread's instance of <typeparamref name="T"/>, made on first use.</summary>
    public T Get<T>()
        where T : class, IDisposable, new()
    {
        if (!_open.TryGetValue(typeof(T), out var reader))
        {
            reader = new T();
            _open.Add(typeof(T), reader);
        }

        return (T)reader;
    }

    public void Dispose()
    {
        foreach (var reader in _open.Values)
        {
            reader.Dispose();
        }

        _open.Clear();
    }
}
