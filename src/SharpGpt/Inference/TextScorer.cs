using SharpGpt.Model;

namespace SharpGpt.Inference;

/// <summary>The loss of a token sequence under a model, read in consecutive blocks of the block size: each block's
/// first token is the previous block's last, so every token after the first is predicted once.</summary>
internal static class TextScorer
{
    /// <returns>The summed loss and the number of tokens predicted.</returns>
    public static (double LossSum, int Count) Score(GptNetwork network, int[] tokens, CancellationToken cancellationToken)
    {
        int t = Math.Min(network.Config.MaxSeqLen, tokens.Length - 1);
        var inputs = new int[t];
        var targets = new int[t];
        double sum = 0;
        int count = 0;
        for (int start = 0; start < tokens.Length - 1; start += t)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = Math.Min(t, tokens.Length - 1 - start);
            // The last block is padded: the padding's targets are masked (-1), so its loss does not count.
            inputs.AsSpan().Clear();
            targets.AsSpan().Fill(-1);
            tokens.AsSpan(start, n).CopyTo(inputs);
            tokens.AsSpan(start + 1, n).CopyTo(targets);
            network.ForwardLoss(inputs, targets, 1, t);
            sum += network.LossSum;
            count += network.TargetCount;
        }

        return (sum, count);
    }
}
