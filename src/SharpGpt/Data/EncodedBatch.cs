namespace SharpGpt.Data;

/// <summary>The tokens of one input piece's documents: <see cref="Tokens"/> holds them back to back, document i
/// taking <see cref="DocumentLengths"/>[i] of them.</summary>
internal sealed record EncodedBatch(InputPiece Piece, TokenBuffer Tokens, int[] DocumentLengths);
