using System.Buffers;

namespace SharpGpt.Data;

/// <summary>A part of a .txt file, decoded: a .txt is one document (two for a single .txt split into train and val
/// by characters), read in parts of about <see cref="DefaultChars"/> characters, each cut where
/// <see cref="SafeTextCut"/> proves the tokens unchanged, so the parts' tokens put back to back are the whole
/// file's. The characters are decoded by the one thread that cuts (UTF-8 decodes far faster than it tokenizes)
/// and tokenized on the workers; they sit in a pooled array that the piece's reader returns.</summary>
internal sealed class TextFilePiece(string path, char[] chars, int length, bool continuesDocument, long bytesRead)
    : InputPiece(path, bytesRead, 2L * chars.Length)
{
    /// <summary>Characters per piece, unless a run of text that cannot be cut is longer.</summary>
    public const int DefaultChars = 1 << 20;

    private char[]? _chars = chars;

    public override bool ContinuesDocument => continuesDocument;

    /// <summary>Cuts a .txt file into pieces, reading it once from start to end. <paramref name="documentBreak"/>,
    /// when given, is the character where a second document starts (moved one on where it would split a
    /// surrogate pair); <paramref name="bytesBefore"/> is the size of the files before it.</summary>
    public static IEnumerable<InputPiece> Split(string path, long bytesBefore, long? documentBreak = null, int pieceChars = DefaultChars)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pieceChars, 1);
        using var reader = TextFileReader.Open(path, Math.Min(pieceChars, TextFileReader.ReadBytes));
        var buffer = ArrayPool<char>.Shared.Rent(pieceChars);
        try
        {
            var limit = pieceChars; // how many characters to read before looking for a cut
            var filled = 0;
            long start = 0;         // the index in the file's text of buffer[0]
            var continues = false;
            var eof = false;
            while (true)
            {
                while (!eof && filled < limit)
                {
                    var read = reader.Read(buffer.AsSpan(filled, limit - filled));
                    filled += read;
                    eof = read == 0;
                }

                if (filled == 0)
                {
                    yield break;
                }

                int end;
                if (documentBreak - start is long toBreak && toBreak > 0 && (toBreak < filled || (eof && toBreak <= filled)))
                {
                    end = (int)toBreak;
                    if (end < filled && char.IsSurrogatePair(buffer[end - 1], buffer[end]))
                    {
                        end++;
                        documentBreak++;
                    }
                }
                else if (eof)
                {
                    end = filled;
                }
                else if ((end = SafeTextCut.FindLast(buffer.AsSpan(0, filled))) < 1)
                {
                    // No cut anywhere in what is read so far: read on, in a larger buffer.
                    limit = checked(limit * 2);
                    buffer = Grow(buffer, filled, limit);
                    continue;
                }

                var rest = filled - end;
                limit = Math.Max(pieceChars, rest);
                var next = ArrayPool<char>.Shared.Rent(limit);
                buffer.AsSpan(end, rest).CopyTo(next);
                var piece = new TextFilePiece(path, buffer, end, continues, bytesBefore + reader.BaseStream.Position);
                (buffer, filled) = (next, rest);
                start += end;
                continues = start != documentBreak;
                yield return piece;
            }
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }

    /// <summary>The piece's characters as one document, or the rest of one; its array goes back to the pool when
    /// the result is disposed. A piece is read once.</summary>
    public override PieceDocuments Read(PieceReaders readers)
    {
        var chars = Interlocked.Exchange(ref _chars, null) ?? throw new InvalidOperationException("A text piece is read once.");
        return new PieceDocuments([chars.AsMemory(0, length)], new PooledChars(chars));
    }

    private static char[] Grow(char[] buffer, int filled, int length)
    {
        if (buffer.Length >= length)
        {
            return buffer;
        }

        var larger = ArrayPool<char>.Shared.Rent(length);
        buffer.AsSpan(0, filled).CopyTo(larger);
        ArrayPool<char>.Shared.Return(buffer);
        return larger;
    }

    private sealed class PooledChars(char[] chars) : IDisposable
    {
        public void Dispose() => ArrayPool<char>.Shared.Return(chars);
    }
}
