namespace SharpGpt;

/// <summary>How far an evaluation has got.</summary>
/// <param name="Done">Batches or examples scored so far.</param>
/// <param name="Total">Batches or examples it scores in all.</param>
public readonly record struct EvaluationProgress(long Done, long Total);
