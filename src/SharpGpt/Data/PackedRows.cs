namespace SharpGpt.Data;

/// <summary>
/// How the examples of one fine-tuning shard fill the rows a loader reads: whole examples, in order, packed greedily
/// into rows of T + 1 tokens (T inputs, the same shifted by one as targets). A row takes the next example while it
/// fits; the rest of the row is padding, never a target. An example longer than a row gets a row of its own and is
/// cut to T + 1 tokens (counted in <see cref="Truncated"/>). Because examples follow each other in the shard, a row
/// is one contiguous span of it.
/// </summary>
internal sealed class PackedRows
{
    private readonly List<(int Offset, int Length)> _rows = [];

    /// <summary>Lays out the rows of a shard whose mask is <paramref name="mask"/>; its first token starts an
    /// example whether or not its flag says so.</summary>
    public PackedRows(ReadOnlySpan<byte> mask, int rowTokens)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rowTokens, 2);
        int n = mask.Length;
        int start = 0;
        while (start < n)
        {
            int end = NextStart(mask, start);
            Examples++;
            if (end - start >= rowTokens)
            {
                if (end - start > rowTokens)
                {
                    Truncated++;
                }

                _rows.Add((start, rowTokens));
                start = end;
                continue;
            }

            int rowStart = start;
            start = end;
            while (start < n)
            {
                end = NextStart(mask, start);
                if (end - rowStart > rowTokens)
                {
                    break;
                }

                Examples++;
                start = end;
            }

            _rows.Add((rowStart, start - rowStart));
        }
    }

    /// <summary>The rows: where each starts in the shard and how many of its tokens it holds (at most T + 1).</summary>
    public IReadOnlyList<(int Offset, int Length)> Rows => _rows;

    public int Count => _rows.Count;

    /// <summary>Examples in the shard.</summary>
    public int Examples { get; }

    /// <summary>Examples longer than a row, of which the row holds the first T + 1 tokens.</summary>
    public int Truncated { get; }

    /// <summary>Fills row <paramref name="row"/> of the shard into <paramref name="inputs"/> and
    /// <paramref name="targets"/> (T each): a target is the next token where that token is trained on, else -1;
    /// the padding after the row's tokens reads token 0 and has no target. A row past the last is all padding (it
    /// fills up the shard's last step). Returns the targets trained on.</summary>
    public int Fill(int row, ReadOnlySpan<ushort> tokens, ReadOnlySpan<byte> mask, Span<int> inputs, Span<int> targets)
    {
        var (offset, length) = row < _rows.Count ? _rows[row] : (0, 0);
        int trained = 0;
        for (int i = 0; i < inputs.Length; i++)
        {
            int next = offset + i + 1;
            inputs[i] = i < length ? tokens[offset + i] : 0;
            bool target = i + 1 < length && (mask[next] & TokenMaskFormat.Trained) != 0;
            targets[i] = target ? tokens[next] : -1;
            trained += target ? 1 : 0;
        }

        return trained;
    }

    // The bytes with bit 1 set are 2 and 3.
    private static int NextStart(ReadOnlySpan<byte> mask, int start)
    {
        int next = mask[(start + 1)..].IndexOfAnyInRange(TokenMaskFormat.StartsExample, (byte)(TokenMaskFormat.StartsExample | TokenMaskFormat.Trained));
        return next < 0 ? mask.Length : start + 1 + next;
    }
}
