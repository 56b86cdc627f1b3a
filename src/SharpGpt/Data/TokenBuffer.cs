using System.Buffers;

namespace SharpGpt.Data;

/// <summary>A growable list of token ids in a pooled array; return it with <see cref="Dispose"/>.</summary>
internal sealed class TokenBuffer(int capacity) : IDisposable
{
    private int[] _items = ArrayPool<int>.Shared.Rent(Math.Max(capacity, 256));

    public int Count { get; private set; }

    public ReadOnlySpan<int> Span => _items.AsSpan(0, Count);

    public void Add(int id)
    {
        if (Count == _items.Length)
        {
            Grow(Count + 1);
        }

        _items[Count++] = id;
    }

    public void AddRange(ReadOnlySpan<int> ids)
    {
        if (Count + ids.Length > _items.Length)
        {
            Grow(Count + ids.Length);
        }

        ids.CopyTo(_items.AsSpan(Count));
        Count += ids.Length;
    }

    /// <summary>Room for <paramref name="count"/> more ids, to be written and then counted in with
    /// <see cref="Advance"/>.</summary>
    public Span<int> GetSpan(int count)
    {
        if (Count + count > _items.Length)
        {
            Grow(Count + count);
        }

        return _items.AsSpan(Count, count);
    }

    /// <summary>Counts in <paramref name="count"/> ids written to the span of <see cref="GetSpan"/>.</summary>
    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Count + count, _items.Length);
        Count += count;
    }

    public void Dispose()
    {
        ArrayPool<int>.Shared.Return(_items);
        _items = [];
        Count = 0;
    }

    private void Grow(int needed)
    {
        var larger = ArrayPool<int>.Shared.Rent(Math.Max(needed, 2 * _items.Length));
        Span.CopyTo(larger);
        ArrayPool<int>.Shared.Return(_items);
        _items = larger;
    }
}
