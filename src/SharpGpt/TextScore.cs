namespace SharpGpt;

/// <summary>How well a model predicts a text: the mean cross-entropy of its tokens, each predicted from those before it.</summary>
/// <param name="TokenCount">The tokens scored.</param>
/// <param name="Loss">The mean cross-entropy per token, in nats.</param>
public sealed record TextScore(long TokenCount, double Loss)
{
    /// <summary>exp(<see cref="Loss"/>): the number of equally likely tokens the model is, on average, choosing among.</summary>
    public double Perplexity => Math.Exp(Loss);
}
