namespace SharpGpt.Data;

/// <summary>GPT-2 encoding of documents for one thread: &lt;|endoftext|&gt; where a document starts, then the BPE of each piece of
/// GPT-2's pre-tokenizer, as <see cref="Gpt2Tokenizer.EncodeInto"/> does. A piece's ids depend on the piece alone,
/// so they are remembered per piece: most pieces of running text are words seen before, and a lookup here skips
/// both the BPE and the library's cache, whose every lookup takes a lock that the threads would share.</summary>
internal sealed class Gpt2DocumentEncoder : IDocumentEncoder
{
    // Bounded so the memory of a long run stays flat (about 100 bytes a piece); the pieces that come first in a
    // corpus are the frequent ones, so a full memo simply stops growing.
    private const int MaxPieces = 1 << 18;
    private const int MaxPieceLength = 32;

    private readonly Gpt2Tokenizer _tokenizer = new();
    private readonly Dictionary<string, int[]> _pieces = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public Gpt2DocumentEncoder() => _lookup = _pieces.GetAlternateLookup<ReadOnlySpan<char>>();

    public GptTokenizer Tokenizer => _tokenizer;

    public void Encode(ReadOnlySpan<char> text, bool startsDocument, TokenBuffer tokens)
    {
        if (startsDocument)
        {
            tokens.Add(Gpt2Tokenizer.EndOfText);
        }

        foreach (var match in Gpt2Tokenizer.PreTokenizer.EnumerateMatches(text))
        {
            var piece = text.Slice(match.Index, match.Length);
            if (!_lookup.TryGetValue(piece, out var ids))
            {
                ids = [.. _tokenizer.EncodePiece(piece)];
                if (piece.Length <= MaxPieceLength && _pieces.Count < MaxPieces)
                {
                    _lookup[piece] = ids;
                }
            }

            tokens.AddRange(ids);
        }
    }
}
