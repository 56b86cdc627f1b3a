namespace SharpGpt.Inference;

/// <summary>How the next token is drawn from the logits.</summary>
/// <param name="TopK">Keep the k most likely tokens; 0 or less keeps the whole vocabulary.</param>
/// <param name="Temperature">Divides the logits; 0 is greedy (argmax, no random draw).</param>
/// <param name="Seed">Seeds the draws, so a seed always gives the same sample.</param>
/// <param name="TopP">Keep the most likely tokens whose probabilities reach this share; 1 keeps them all.</param>
internal sealed record SamplingOptions(int TopK = 50, float Temperature = 1f, ulong Seed = 1337, float TopP = 1f)
{
    public void Validate()
    {
        if (!(Temperature >= 0) || float.IsInfinity(Temperature))
        {
            throw new ArgumentOutOfRangeException(nameof(Temperature), $"Temperature must be a finite number >= 0 (0 = greedy), got {Temperature}.");
        }

        if (!(TopP > 0 && TopP <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(TopP), $"TopP must be in (0, 1], got {TopP}.");
        }
    }
}
