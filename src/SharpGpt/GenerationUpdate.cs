namespace SharpGpt;

/// <summary>A step of a streamed generation (<see cref="GptModel.GenerateUpdatesAsync"/>): new text, or, last, the
/// whole result.</summary>
/// <param name="Text">The text since the previous update, in whole characters; empty in the last update.</param>
/// <param name="Result">Set in the last update only: the generated tokens, the finish reason and the counts.</param>
public readonly record struct GenerationUpdate(string Text, GenerationResult? Result);
