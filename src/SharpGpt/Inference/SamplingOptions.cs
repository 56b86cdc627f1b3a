namespace SharpGpt.Inference;

/// <summary>How the next token is drawn from the logits.</summary>
/// <param name="TopK">Keep the k most likely tokens; 0 or less keeps the whole vocabulary.</param>
/// <param name="Temperature">Divides the logits; 0 is greedy (argmax, no random draw).</param>
/// <param name="Seed">Seeds the draws, so a seed always gives the same sample.</param>
public sealed record SamplingOptions(int TopK = 50, float Temperature = 1f, ulong Seed = 1337)
{
    public void Validate()
    {
        if (!(Temperature >= 0) || float.IsInfinity(Temperature))
        {
            throw new ArgumentOutOfRangeException(nameof(Temperature), $"Temperature must be a finite number >= 0 (0 = greedy), got {Temperature}.");
        }
    }
}
