namespace SharpGpt.Data;

/// <summary>The tokens of one input piece's documents: <see cref="Tokens"/> holds them back to back, document i
/// taking <see cref="DocumentLengths"/>[i] of them. For fine-tuning examples, <see cref="Mask"/> holds a byte per
/// token (<see cref="TokenMaskFormat"/>): which are trained on, and where each example starts.</summary>
internal sealed record EncodedBatch(InputPiece Piece, TokenBuffer Tokens, int[] DocumentLengths, byte[]? Mask = null);
