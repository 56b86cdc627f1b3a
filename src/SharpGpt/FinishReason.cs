namespace SharpGpt;

/// <summary>Why a generation ended.</summary>
public enum FinishReason
{
    /// <summary>It produced <see cref="GenerationOptions.MaxTokens"/> tokens.</summary>
    Length,

    /// <summary>It produced one of <see cref="GenerationOptions.StopSequences"/>.</summary>
    StopSequence,

    /// <summary>It produced the end-of-text token (with <see cref="GenerationOptions.StopAtEndOfText"/>).</summary>
    EndOfText,
}
