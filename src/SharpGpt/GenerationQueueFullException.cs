namespace SharpGpt;

/// <summary>
/// A <see cref="GptBatchGenerator"/> turned a generation away: <see cref="GptBatchGenerator.MaxBatchSize"/> sequences
/// are decoding and <see cref="GptBatchGenerator.MaxQueueLength"/> more are waiting. Nothing was started; try again
/// later (a server answers 429).
/// </summary>
public sealed class GenerationQueueFullException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="maxBatchSize">The generator's <see cref="GptBatchGenerator.MaxBatchSize"/>.</param>
    /// <param name="maxQueueLength">The generator's <see cref="GptBatchGenerator.MaxQueueLength"/>.</param>
    public GenerationQueueFullException(int maxBatchSize, int maxQueueLength)
        : base($"The batch generator is full: {maxBatchSize} sequences are decoding (MaxBatchSize) and {maxQueueLength} are waiting (MaxQueueLength); try again later.")
    {
        MaxBatchSize = maxBatchSize;
        MaxQueueLength = maxQueueLength;
    }

    /// <summary>The generator's <see cref="GptBatchGenerator.MaxBatchSize"/>.</summary>
    public int MaxBatchSize { get; }

    /// <summary>The generator's <see cref="GptBatchGenerator.MaxQueueLength"/>.</summary>
    public int MaxQueueLength { get; }
}
